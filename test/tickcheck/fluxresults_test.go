package tickcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/influxdata/kapacitor/edge"
	"github.com/influxdata/kapacitor/influxdb"
	"github.com/influxdata/kapacitor/pipeline"
)

// The queryFlux tasks cannot run here (Kapacitor 1.6+ needs Flux's Rust library), so their
// runtime path is assembled from its parts: testdata/*.csv are InfluxDB 1.8.3's real answers
// to each task's query over test/alerting's synthetic data (now pinned to
// 2026-11-20T10:30:00Z; recorded and kept current by test/alerting's TestFluxOnInfluxDB18).
// Each answer goes through the code Kapacitor 1.7's queryFlux node runs —
// influxdb.NewFluxQueryResponse, then edge.ResultToBufferedBatches — and every resulting point
// through the task's own alert lambdas and message template. The result is the alert each
// group would raise: level and message, exactly.

// batches converts a recorded answer as the queryFlux node does.
func batches(t *testing.T, name string) []edge.BufferedBatchMessage {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	resp, err := influxdb.NewFluxQueryResponse(f)
	if err != nil {
		t.Fatalf("%s: Kapacitor cannot read the answer: %v", name, err)
	}
	var out []edge.BufferedBatchMessage
	for _, res := range resp.Results {
		bs, err := edge.ResultToBufferedBatches(res, false)
		if err != nil {
			t.Fatalf("%s: Kapacitor cannot convert the answer: %v", name, err)
		}
		out = append(out, bs...)
	}
	return out
}

// alerts evaluates every point as the alert node does (crit first, then warn, else OK) and
// renders the message at that level; sorted, as groups arrive in no defined order.
func alerts(t *testing.T, task string, a *pipeline.AlertNode, bs []edge.BufferedBatchMessage) []string {
	t.Helper()
	var out []string
	for _, b := range bs {
		for _, p := range b.Points() {
			pt := point{tags: p.Tags(), fields: p.Fields()}
			level := "OK"
			if a.Crit != nil && eval(t, a.Crit, pt) {
				level = "CRITICAL"
			} else if a.Warn != nil && eval(t, a.Warn, pt) {
				level = "WARNING"
			}
			out = append(out, level+" "+render(t, a.Message, task, level, pt))
		}
	}
	sort.Strings(out)
	return out
}

func equalAlerts(t *testing.T, got, want []string) {
	t.Helper()
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("alerts:\ngot:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestMissedRenewalOnRealAnswer(t *testing.T) {
	s := load(t, "missed_renewal.tick")
	bs := batches(t, "missed_renewal")
	for _, b := range bs {
		if got := b.Tags(); len(got) != 2 || got["domain"] == "" || got["host"] == "" {
			t.Errorf("group tags %v, want domain and host", got)
		}
	}
	equalAlerts(t, alerts(t, "missed_renewal", one[*pipeline.AlertNode](t, s), bs), []string{
		"OK OK: certificate api.example.test on host alpha was last renewed 28d 7h ago and expires in 16d 15h (45d certificate: overdue 33d 16h after this renewal)",
		"CRITICAL CRITICAL: certificate blog.example.test on host beta was last renewed 55d 7h ago and expires in -10d 8h (45d certificate: overdue 33d 16h after this renewal)",
		"CRITICAL CRITICAL: certificate legacy.example.test on host beta was last renewed 110d 7h ago and expires in -20d 8h (90d certificate: overdue 67d 10h after this renewal)",
		"CRITICAL CRITICAL: certificate new.example.test on host delta was last renewed 50d 7h ago and expires in 13d 15h (64d certificate: overdue 47d 22h after this renewal)",
		"OK OK: certificate oldhook.example.test on host gamma was last renewed 40d 7h ago (lifetime unknown: overdue 62d 0h after a renewal)",
		"OK OK: certificate shop.example.test on host alpha was last renewed 58d 7h ago and expires in 31d 15h (90d certificate: overdue 67d 10h after this renewal)",
		"OK OK: certificate www.shop.example.test on host alpha was last renewed 58d 7h ago and expires in 31d 15h (90d certificate: overdue 67d 10h after this renewal)",
	})
}

func TestCertExpiryOnRealAnswer(t *testing.T) {
	s := load(t, "cert_expiry.tick")
	// Relative to each lifetime: 50 of 90 days left is OK, 20 of 90 WARNING (L/4 = 22.5), 10
	// of 45 WARNING (L/4 = 11.25, L/6 = 7.5), 60 of 160 hours OK (L/3 = 53.3), expired CRITICAL.
	equalAlerts(t, alerts(t, "cert_expiry", one[*pipeline.AlertNode](t, s), batches(t, "cert_expiry")), []string{
		"OK OK: certificate for shop.example.test served by pod shop/web-0 (127.0.0.2:443) expires in 50.0 days (lifetime 90 days)",
		"OK OK: certificate for shop.example.test served by pod shop/web-1 (127.0.0.3:443) expires in 50.0 days (lifetime 90 days)",
		"CRITICAL CRITICAL: certificate for shop.example.test served by pod shop/web-2 (127.0.0.4:443) expires in -2.0 days (lifetime 90 days)",
		"WARNING WARNING: certificate for api.example.test served by pod api/api-0 (127.0.0.5:8443) expires in 20.0 days (lifetime 90 days)",
		"WARNING WARNING: certificate for api.example.test served by pod api/api-1 (127.0.0.6:8443) expires in 20.0 days (lifetime 90 days)",
		"WARNING WARNING: certificate for old.example.test served by 127.0.0.11:8443 expires in 10.0 days (lifetime 45 days)",
		"OK OK: certificate for short.example.test served by 127.0.0.12:443 expires in 60.0 hours (lifetime 160 hours)",
	})
}

func TestCertStatusOnRealAnswer(t *testing.T) {
	s := load(t, "cert_status.tick")
	equalAlerts(t, alerts(t, "cert_status", one[*pipeline.AlertNode](t, s), batches(t, "cert_status")), []string{
		"OK OK: probe of shop.example.test on pod shop/web-0 (127.0.0.2:443) is valid",
		"OK OK: probe of shop.example.test on pod shop/web-1 (127.0.0.3:443) is valid",
		"CRITICAL CRITICAL: probe of shop.example.test on pod shop/web-2 (127.0.0.4:443) is expired",
		"OK OK: probe of api.example.test on pod api/api-0 (127.0.0.5:8443) is valid",
		"OK OK: probe of api.example.test on pod api/api-1 (127.0.0.6:8443) is valid",
		"WARNING WARNING: probe of old.example.test on 127.0.0.11:8443 is valid, but its chain does not verify: x509: certificate signed by unknown authority",
		"OK OK: probe of short.example.test on 127.0.0.12:443 is valid",
		"CRITICAL CRITICAL: probe of shop.example.test on 127.0.0.10:443 is unreachable",
	})
}

// The deadman counts the points its query emits per group: one point per host, tagged host,
// with the row count as an integer field.
func TestCertDeadmanOnRealAnswer(t *testing.T) {
	var got []string
	for _, b := range batches(t, "cert_deadman") {
		for _, p := range b.Points() {
			got = append(got, fmt.Sprintf("tags=%v fields=%v rows=%T", p.Tags(), p.Fields(), p.Fields()["rows"]))
		}
	}
	sort.Strings(got)
	want := []string{
		"tags=map[host:telegraf-a] fields=map[rows:3] rows=int64",
		"tags=map[host:telegraf-b] fields=map[rows:5] rows=int64",
	}
	if !slices.Equal(got, want) {
		t.Errorf("points:\n got %q\nwant %q", got, want)
	}
}
