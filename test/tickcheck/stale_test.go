package tickcheck

import (
	"testing"
	"time"

	"github.com/influxdata/kapacitor/pipeline"
)

// stalePoint is a row of flux/stale_certificates.flux as Kapacitor sees it: the backend's
// identity as tags, the rest as fields (its time columns as time.Time).
func stalePoint(tags map[string]string, stale bool) point {
	servedNotAfter := time.Date(2026, 12, 10, 1, 32, 24, 0, time.UTC)
	f := map[string]any{
		"served_not_after": servedNotAfter, "stored_not_after": servedNotAfter,
		"source": "", "stored_domain": "", "appeared": time.Date(2026, 11, 30, 1, 31, 24, 0, time.UTC), "stale": stale,
	}
	if stale {
		f["stored_not_after"] = time.Date(2027, 1, 14, 1, 32, 24, 0, time.UTC)
		f["source"], f["stored_domain"] = "certbot", "shop.example.test"
		f["appeared"] = time.Date(2026, 11, 29, 23, 32, 24, 0, time.UTC)
	}
	return point{tags: tags, fields: f}
}

func TestStaleCertificateTick(t *testing.T) {
	s := load(t, "stale_certificate.tick")
	qf := one[*pipeline.QueryFluxNode](t, s)
	if want := fluxFile(t, "flux/stale_certificates.flux", "onlyStale", "false"); qf.QueryStr != "\n"+want {
		t.Errorf("queryFlux is not flux/stale_certificates.flux with onlyStale = false: run make dashboards")
	}
	if qf.Every != 5*time.Minute {
		t.Errorf("every %s, want 5m", qf.Every)
	}
	a := one[*pipeline.AlertNode](t, s)
	checkHandlers(t, s, a)
	if a.Warn != nil || a.Info != nil {
		t.Errorf("only crit is expected")
	}
	pod := map[string]string{"namespace": "shop", "pod": "web-0", "address": "127.0.0.2", "port": "443", "domain": "shop.example.test"}
	static := map[string]string{"address": "127.0.0.5", "port": "8443", "domain": "shop.example.test"}
	if !eval(t, a.Crit, stalePoint(pod, true)) || eval(t, a.Crit, stalePoint(pod, false)) {
		t.Errorf("crit %s: want true for stale, false otherwise", lambdaText(a.Crit))
	}
	for _, c := range []struct {
		p           point
		level, want string
	}{
		{stalePoint(pod, true), "CRITICAL", "CRITICAL: pod shop/web-0 (127.0.0.2:443) serves the certificate for shop.example.test expiring 2026-12-10 01:32:24 +0000 UTC, but a renewed one expiring 2027-01-14 01:32:24 +0000 UTC (certbot, shop.example.test) appeared 2026-11-29 23:32:24 +0000 UTC: reload or restart it"},
		{stalePoint(pod, false), "OK", "OK: pod shop/web-0 (127.0.0.2:443) serves the certificate for shop.example.test expiring 2026-12-10 01:32:24 +0000 UTC"},
		{stalePoint(static, true), "CRITICAL", "CRITICAL: 127.0.0.5:8443 serves the certificate for shop.example.test expiring 2026-12-10 01:32:24 +0000 UTC, but a renewed one expiring 2027-01-14 01:32:24 +0000 UTC (certbot, shop.example.test) appeared 2026-11-29 23:32:24 +0000 UTC: reload or restart it"},
	} {
		if got := render(t, a.Message, "stale_certificate", c.level, c.p); got != c.want {
			t.Errorf("message\n got %q\nwant %q", got, c.want)
		}
	}
	if got, want := render(t, a.Id, "stale_certificate", "OK", stalePoint(static, false)), "stale_certificate://127.0.0.5:8443/shop.example.test"; got != want {
		t.Errorf("id %q, want %q", got, want)
	}
	documentedVars(t, s, "every", "topic", "log_file", "id", "message")
}

// TestStaleCertificateOnRealAnswer: testdata/stale_certificate.csv is InfluxDB 1.8.3's answer
// to the task's query in test/certbot's TestStaleCertificateCrossCheck (recorded with
// -record-tick-answer): after a real certbot renewal, 127.0.0.1 still serves the issued
// certificate and 127.0.0.2 was restarted. Kapacitor's conversion turns it into one group per
// backend, its time columns into time.Time fields, and the alert into CRITICAL and OK.
func TestStaleCertificateOnRealAnswer(t *testing.T) {
	s := load(t, "stale_certificate.tick")
	bs := batches(t, "stale_certificate")
	for _, b := range bs {
		if got := b.Tags(); len(got) != 3 || got["address"] == "" || got["port"] == "" || got["domain"] == "" {
			t.Errorf("group tags %v, want address, port and domain", got)
		}
		for _, p := range b.Points() {
			if _, ok := p.Fields()["appeared"].(time.Time); !ok {
				t.Errorf("appeared is %T, want time.Time", p.Fields()["appeared"])
			}
		}
	}
	equalAlerts(t, alerts(t, "stale_certificate", one[*pipeline.AlertNode](t, s), bs), []string{
		"CRITICAL CRITICAL: 127.0.0.1:35043 serves the certificate for test.example expiring 2031-11-30 01:39:03 +0000 UTC, but a renewed one expiring 2031-11-30 01:39:12 +0000 UTC (certbot, test.example) appeared 2026-11-30 01:39:14.545044441 +0000 UTC: reload or restart it",
		"OK OK: 127.0.0.2:35043 serves the certificate for test.example expiring 2031-11-30 01:39:12 +0000 UTC",
	})
}
