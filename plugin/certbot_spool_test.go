package plugin

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/spool"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
)

const spooled = `certbot_renewal,domain=all,host=web\ 1 renewed_count=2,not_before=1795330800i,not_after=1803106799i,lifetime=7775999i 1795335563914642600
certbot_renewal,domain=a.example,host=web\ 1 renewed_count=1,not_before=1795330800i,not_after=1803106799i,lifetime=7775999i 1795335563914642600
`

func TestGatherCertbotSpool(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certbot.lp")
	if err := os.WriteFile(path, []byte(spooled+"garbage line\n"+"certbot_renewal,domain=b.example,host=h renewed_count=1 1795335564000000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	acc := &metrictest.Accumulator{}
	err := gatherCertbotSpool(path, acc)
	want := "certbot_spool " + path + ": 1 unparsable lines moved to " + path + ".rejected: line 3 \"garbage line\": metric parse error: expected field at 1:13: \"garbage line\""
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
	at := time.Unix(0, 1795335563914642600)
	fields := func(n float64) map[string]any {
		return map[string]any{"renewed_count": n, "not_before": int64(1795330800), "not_after": int64(1803106799), "lifetime": int64(7775999)}
	}
	wantRows := []metrictest.Row{
		{Measurement: "certbot_renewal", Tags: map[string]string{"domain": "all", "host": "web 1"}, Fields: fields(2), Time: at},
		{Measurement: "certbot_renewal", Tags: map[string]string{"domain": "a.example", "host": "web 1"}, Fields: fields(1), Time: at},
		{Measurement: "certbot_renewal", Tags: map[string]string{"domain": "b.example", "host": "h"}, Fields: map[string]any{"renewed_count": float64(1)}, Time: time.Unix(0, 1795335564000000000)},
	}
	if !reflect.DeepEqual(acc.Rows(), wantRows) {
		t.Errorf("rows\n%+v\nwant\n%+v", acc.Rows(), wantRows)
	}
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Errorf("spool not emptied: %q", b)
	}
	if b, _ := os.ReadFile(path + ".rejected"); string(b) != "garbage line\n" {
		t.Errorf("rejected: %q", b)
	}

	// A later renewal: only the new lines come out.
	if err := os.WriteFile(path, []byte("certbot_renewal,domain=c.example,host=h renewed_count=1 1795335565000000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	acc = &metrictest.Accumulator{}
	if err := gatherCertbotSpool(path, acc); err != nil || len(acc.Rows()) != 1 || acc.Rows()[0].Tags["domain"] != "c.example" {
		t.Fatalf("second gather: %v %+v", err, acc.Rows())
	}
}

func TestGatherCertbotSpoolMissingOrBusy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "certbot.lp")
	acc := &metrictest.Accumulator{}
	if err := gatherCertbotSpool(path, acc); err != nil || len(acc.Rows()) != 0 {
		t.Fatalf("missing spool: %v %+v", err, acc.Rows())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a missing spool must not create files: %v", entries)
	}

	if err := os.WriteFile(path, []byte(spooled), 0o600); err != nil {
		t.Fatal(err)
	}
	tx, err := spool.New(path).Lock(context.Background()) // the hook, delivering
	if err != nil {
		t.Fatal(err)
	}
	if err := gatherCertbotSpool(path, acc); err != nil || len(acc.Rows()) != 0 {
		t.Fatalf("busy spool: %v %+v", err, acc.Rows())
	}
	tx.Close()
	if b, _ := os.ReadFile(path); string(b) != spooled {
		t.Errorf("busy spool changed: %q", b)
	}
	if err := gatherCertbotSpool(path, acc); err != nil || len(acc.Rows()) != 2 {
		t.Fatalf("after release: %v %+v", err, acc.Rows())
	}
}
