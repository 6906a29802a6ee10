// Package x509cert tests docs/migrating-from-x509_cert.md: its plugin configuration loads,
// and its processors configuration, run through Telegraf's own config loader and processors,
// turns real cert_expiry rows into rows under x509_cert's names.
package x509cert

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/config"
	"github.com/influxdata/telegraf/metric"
	_ "github.com/influxdata/telegraf/plugins/processors/converter"
	_ "github.com/influxdata/telegraf/plugins/processors/enum"
	_ "github.com/influxdata/telegraf/plugins/processors/override"
	_ "github.com/influxdata/telegraf/plugins/processors/regex"
	_ "github.com/influxdata/telegraf/plugins/processors/rename"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/probe"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/plugin"
)

// tomlBlocks returns the guide's ```toml blocks.
func tomlBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "migrating-from-x509_cert.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	parts := strings.Split(string(b), "```toml\n")
	for _, p := range parts[1:] {
		end := strings.Index(p, "```")
		if end < 0 {
			t.Fatal("unterminated ```toml block")
		}
		out = append(out, p[:end])
	}
	return out
}

func block(t *testing.T, marker string) string {
	t.Helper()
	for _, b := range tomlBlocks(t) {
		if strings.Contains(b, marker) {
			return b
		}
	}
	t.Fatalf("the guide has no ```toml block with %s", marker)
	return ""
}

func TestGuidePluginConfigLoads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin.conf")
	if err := os.WriteFile(path, []byte(block(t, "[[inputs.certexpiry]]")), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := plugin.LoadConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	if len(p.Targets) != 2 || !reflect.DeepEqual(p.Domains, []string{"shop.example.com"}) {
		t.Errorf("targets %v domains %v", p.Targets, p.Domains)
	}
}

func TestGuideProcessorsGiveX509CertNames(t *testing.T) {
	now := time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	root, err := testcerts.NewCA("Migration Root", now.Add(-365*day), now.Add(3650*day))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := root.Issue(testcerts.Options{CommonName: "shop.example.com", DNSNames: []string{"shop.example.com"}, NotBefore: now.Add(-30 * day), NotAfter: now.Add(60 * day)})
	if err != nil {
		t.Fatal(err)
	}
	tg := &target.Target{Source: target.SourceStatic, Address: "192.0.2.10", Ports: []int{443}, Domains: []string{"shop.example.com"}}
	pr := target.Probe{Target: tg, Port: 443, Domain: "shop.example.com"}
	served := probe.Result{Probe: pr, Status: probe.StatusValid, At: now, Chain: []*x509.Certificate{leaf.Cert}, HostnameMatch: true, Verified: true}
	untrusted := served
	untrusted.Verified, untrusted.VerifyErr = false, x509.UnknownAuthorityError{}
	failed := probe.Result{Probe: pr, Status: probe.StatusUnreachable, At: now, Err: &probe.Error{Step: "dial", Address: "192.0.2.10:443", Err: os.ErrDeadlineExceeded}}
	var in []telegraf.Metric
	for _, r := range []probe.Result{served, untrusted, failed} {
		tags, fields := plugin.ResultRow(&r)
		in = append(in, metric.New(plugin.Measurement, tags, fields, now))
	}
	in = append(in, metric.New(plugin.DiscoveryMeasurement, map[string]string{"source": "kubernetes"}, map[string]any{"pods": int64(3)}, now))

	c := config.NewConfig()
	if err := c.LoadConfigData([]byte(block(t, "[[processors.rename]]")), "guide"); err != nil {
		t.Fatal(err)
	}
	if len(c.Processors) != 5 {
		t.Fatalf("%d processors loaded, want 5", len(c.Processors))
	}
	for _, rp := range c.Processors {
		if err := rp.Init(); err != nil {
			t.Fatalf("%s: %v", rp.LogName(), err)
		}
		acc := &metrictest.Accumulator{}
		if err := rp.Start(acc); err != nil {
			t.Fatal(err)
		}
		for _, m := range in {
			if err := rp.Add(m, acc); err != nil {
				t.Fatal(err)
			}
		}
		rp.Stop()
		in = in[:0]
		for _, r := range acc.Rows() {
			in = append(in, metric.New(r.Measurement, r.Tags, r.Fields, r.Time))
		}
	}
	if len(in) != 4 {
		t.Fatalf("%d rows out, want 4: %v", len(in), in)
	}

	wantTags := map[string]string{
		"source": "static", "address": "192.0.2.10", "port": "443", "domain": "shop.example.com", "status": "valid",
		"type": "leaf", "verification": "valid", "common_name": "shop.example.com", "issuer_common_name": "Migration Root",
		"serial_number": leaf.Cert.SerialNumber.Text(16),
	}
	first := in[0]
	if first.Name() != "x509_cert" || !reflect.DeepEqual(first.Tags(), wantTags) {
		t.Errorf("row %s %v\nwant x509_cert %v", first.Name(), first.Tags(), wantTags)
	}
	want := map[string]any{
		"startdate": leaf.Cert.NotBefore.Unix(), "enddate": leaf.Cert.NotAfter.Unix(), "expiry": int64(60 * 86400),
		"age": int64(30 * 86400), "verification_code": int64(0), "verification_error": "",
	}
	for k, v := range want {
		if got, ok := first.GetField(k); !ok || got != v {
			t.Errorf("field %s = %v (%T), want %v (%T)", k, got, got, v, v)
		}
	}
	for _, gone := range []string{"not_before", "not_after", "serial", "verification", "common_name"} {
		if _, ok := first.GetField(gone); ok {
			t.Errorf("field %s still there", gone)
		}
	}
	if code, _ := in[1].GetField("verification_code"); code != int64(1) || in[1].Tags()["verification"] != "invalid" {
		t.Errorf("untrusted row: verification_code %v, verification %q; want 1, invalid", code, in[1].Tags()["verification"])
	}
	if in[2].Name() != "x509_cert" || in[2].Tags()["status"] != "unreachable" || in[2].Tags()["type"] != "leaf" {
		t.Errorf("failed probe row %v", in[2])
	}
	if in[3].Name() != plugin.DiscoveryMeasurement || !reflect.DeepEqual(in[3].Tags(), map[string]string{"source": "kubernetes"}) {
		t.Errorf("the discovery row was touched: %v", in[3])
	}
}
