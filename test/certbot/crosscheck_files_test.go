package certbot

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/plugin"
)

// TestStaleCertificateFromFiles: any ACME client but certbot. A wildcard certificate file was
// renewed on disk (renewed.pem) while a real TLS server on 127.0.0.61 still serves the
// certificate it loaded before (previous.pem); a server on 127.0.0.62 serves the renewed one.
// The plugin reads the file (files option) and probes both servers for real; its rows go to a
// real InfluxDB 1.8.3, the file's first reading stamped two hours ago. With the shipped grace
// period, flux/stale_certificates.flux lists 127.0.0.61 for www.example.test (covered by
// *.example.test), source "file"; with the file first read 30 minutes ago, nothing.
func TestStaleCertificateFromFiles(t *testing.T) {
	testenv.RequireIntegration(t)
	db := testenv.StartInfluxDB18(t, testenv.InfluxDBOptions{Flux: true})
	now := time.Now().Truncate(time.Second)
	ca, err := testcerts.NewCA("files test CA", now.Add(-100*24*time.Hour), now.Add(200*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	issue := func(nb time.Time) *testcerts.Leaf {
		l, err := ca.Issue(testcerts.Options{CommonName: "*.example.test", DNSNames: []string{"*.example.test"}, NotBefore: nb, NotAfter: nb.Add(45 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	previous, renewed := issue(now.Add(-40*24*time.Hour)), issue(now.Add(-4*time.Hour))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "example.test.pem"), renewed.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePort(t)
	for ip, leaf := range map[string]*testcerts.Leaf{"127.0.0.61": previous, "127.0.0.62": renewed} {
		s, err := testcerts.ServeLeaf(fmt.Sprintf("%s:%d", ip, port), leaf)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
	}

	p := plugin.New()
	p.Domains = []string{"www.example.test"}
	p.Ports = []int{port}
	p.Files = []string{filepath.Join(dir, "*.pem")}
	p.Targets = []plugin.StaticTarget{{Address: "127.0.0.61"}, {Address: "127.0.0.62"}}
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	a := &metrictest.Accumulator{}
	if err := p.Gather(a); err != nil {
		t.Fatal(err)
	}
	files, served := a.Measurement(plugin.FileMeasurement), a.Measurement(plugin.Measurement)
	if len(files) != 1 || files[0].Tags["domain"] != "*.example.test" || len(served) != 2 {
		t.Fatalf("rows %v", a.Rows())
	}

	rfc := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	for _, c := range []struct {
		database string
		stored   time.Duration
		want     []string
	}{
		{"twohours", 2 * time.Hour, []string{fmt.Sprintf("address=127.0.0.61 port=%d domain=www.example.test served_not_after=%s stored_not_after=%s source=file stored_domain=*.example.test appeared=%s",
			port, rfc(previous.Cert.NotAfter), rfc(renewed.Cert.NotAfter), rfc(now.Add(-2*time.Hour)))}},
		{"halfhour", 30 * time.Minute, nil},
	} {
		t.Run(c.database, func(t *testing.T) {
			db.CreateDatabase(t, c.database)
			db.WriteRows(t, c.database, files, now.Add(-c.stored))
			db.WriteRows(t, c.database, files, now)
			db.WriteRows(t, c.database, served, now)
			var got []string
			for _, r := range db.FluxRows(t, testenv.FluxFile(t, "stale_certificates.flux", "bucket", `"`+c.database+`/autogen"`)) {
				got = append(got, fmt.Sprintf("address=%s port=%s domain=%s served_not_after=%s stored_not_after=%s source=%s stored_domain=%s appeared=%s",
					r["address"], r["port"], r["domain"], r["served_not_after"], r["stored_not_after"], r["source"], r["stored_domain"], r["appeared"]))
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("stale_certificates:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}
