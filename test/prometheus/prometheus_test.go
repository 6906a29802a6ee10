// Package prometheus tests deploy/prometheus: the alerting rules with promtool's own unit
// tests, and — against a real telegraf running the plugin through execd with the shipped
// prometheus_client output — the metric names and labels those rules rely on.
package prometheus

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

func deployDir(t *testing.T) string {
	return filepath.Join(testenv.RepoRoot(t), "deploy", "prometheus")
}

func promtool(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// The rules parse, and their unit tests (certexpiry-rules.test.yml, certbot-renewal.test.yml) pass.
func TestRulesPassPromtool(t *testing.T) {
	bin := testenv.Binary(t, "promtool")
	dir := deployDir(t)
	out := promtool(t, bin, dir, "check", "rules", "certexpiry-rules.yml")
	if !strings.Contains(out, "SUCCESS: 9 rules found") {
		t.Errorf("promtool check rules: %s", out)
	}
	promtool(t, bin, dir, "test", "rules", "certexpiry-rules.test.yml", "certbot-renewal.test.yml")
}

// sample is one line of the Prometheus text exposition format.
type sample struct {
	name   string
	labels map[string]string
	value  string
}

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

func parseExposition(t *testing.T, text string) []sample {
	t.Helper()
	var out []sample
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not a sample line: %q", line)
		}
		s := sample{name: m[1], labels: map[string]string{}, value: m[3]}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			s.labels[p[1]] = p[2]
		}
		out = append(out, s)
	}
	return out
}

// ruleMetrics returns the metric names the rules' expressions use (not their comments or
// annotations), per rule.
func ruleMetrics(t *testing.T, rulesFile string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	metric := regexp.MustCompile(`\b(?:cert_expiry|certbot_renewal)_[a-z_]+\b`)
	out := map[string][]string{}
	var rule string
	inExpr, exprIndent := false, 0
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		if inExpr && trimmed != "" && indent <= exprIndent {
			inExpr = false
		}
		switch {
		case strings.HasPrefix(trimmed, "- alert: "):
			rule = strings.TrimPrefix(trimmed, "- alert: ")
		case strings.HasPrefix(trimmed, "expr: |"):
			inExpr, exprIndent = true, indent
		case strings.HasPrefix(trimmed, "expr: "):
			out[rule] = append(out[rule], metric.FindAllString(trimmed, -1)...)
		case inExpr:
			out[rule] = append(out[rule], metric.FindAllString(trimmed, -1)...)
		}
	}
	return out
}

// buildPlugin compiles the working tree's telegraf-certexpiry.
func buildPlugin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "telegraf-certexpiry")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/telegraf-certexpiry")
	cmd.Dir = testenv.RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTelegrafExposesWhatTheRulesUse runs a real telegraf with the plugin under execd and the
// shipped deploy/prometheus/telegraf-output.conf, scrapes its /metrics, and pins what the
// rules rely on: the metric names, labels without status or certificate texts, and the
// values. Then it feeds the scraped series to promtool with the rules and checks which alerts
// fire on them.
func TestTelegrafExposesWhatTheRulesUse(t *testing.T) {
	telegrafBin := testenv.Binary(t, "telegraf")
	promtoolBin := testenv.Binary(t, "promtool")
	pluginBin := buildPlugin(t)
	dir := t.TempDir()
	now := time.Now()
	day := 24 * time.Hour

	root, err := testcerts.NewCA("Scrape Root", now.Add(-365*day), now.Add(3650*day))
	if err != nil {
		t.Fatal(err)
	}
	serve := func(addr string, notBefore, notAfter time.Time) *testcerts.Server {
		leaf, err := root.Issue(testcerts.Options{DNSNames: []string{"shop.test"}, NotBefore: notBefore, NotAfter: notAfter})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := testcerts.ServeLeaf(addr, leaf)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		return srv
	}
	// A 90-day certificate with 60 days left, and one that expired yesterday.
	good := serve("127.0.0.1:0", now.Add(-30*day), now.Add(60*day))
	expired := serve("127.0.0.2:0", now.Add(-91*day), now.Add(-day))
	closed := testenv.FreePort(t)
	// certbot renewed shop.test: its new certificate ends later than the one still served.
	renewedNotAfter := now.Add(89 * day).Unix()
	renewedNotBefore := now.Add(-day).Unix()
	spool := writeFile(t, dir, "certbot-spool.lp", fmt.Sprintf(
		"certbot_renewal,domain=all,host=certbot-1 renewed_count=1,not_before=%[1]di,not_after=%[2]di,lifetime=%[3]di %[4]d\n"+
			"certbot_renewal,domain=shop.test,host=certbot-1 renewed_count=1,not_before=%[1]di,not_after=%[2]di,lifetime=%[3]di %[4]d\n",
		renewedNotBefore, renewedNotAfter, renewedNotAfter-renewedNotBefore, now.Add(-day).UnixNano()))
	caFile := writeFile(t, dir, "ca.pem", string(root.CertPEM()))
	// Kubernetes discovery against an API server that is not there: synced stays false.
	kubeconfig := writeFile(t, dir, "kubeconfig", fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:%d", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, testenv.FreePort(t)))
	pluginConf := writeFile(t, dir, "plugin.conf", fmt.Sprintf(`[[inputs.certexpiry]]
  domains = ["shop.test"]
  ca_file = %q
  certbot_spool = %q
  timeout = "2s"
  gather_timeout = "5s"
  [[inputs.certexpiry.target]]
    address = "127.0.0.1"
    ports = [%d]
  [[inputs.certexpiry.target]]
    address = "127.0.0.2"
    ports = [%d]
  [[inputs.certexpiry.target]]
    address = "127.0.0.3"
    ports = [%d]
  [inputs.certexpiry.kubernetes]
    kube_config = %q
    sync_timeout = "1s"
`, caFile, spool, good.Port(), expired.Port(), closed, kubeconfig))

	output, err := os.ReadFile(filepath.Join(deployDir(t), "telegraf-output.conf"))
	if err != nil {
		t.Fatal(err)
	}
	listen := testenv.FreeAddr(t)
	shipped := string(output)
	if !strings.Contains(shipped, "\n  listen = \":9273\"\n") {
		t.Fatal("telegraf-output.conf no longer has listen = \":9273\"; update this test")
	}
	telegrafConf := writeFile(t, dir, "telegraf.conf", fmt.Sprintf(`[agent]
  interval = "1s"
  flush_interval = "1s"
  hostname = "telegraf-test"

[[inputs.execd]]
  command = [%q, "-config", %q, "-poll_interval_disabled"]
  signal = "STDIN"
  data_format = "influx"
  restart_delay = "1s"

`, pluginBin, pluginConf)+strings.Replace(shipped, `listen = ":9273"`, fmt.Sprintf("listen = %q", listen), 1))

	testenv.Start(t, telegrafBin, "--config", telegrafConf)

	// Wait for a scrape holding the rows of every source: probes, discovery, renewals.
	var samples []sample
	var text string
	deadline := time.Now().Add(60 * time.Second)
	for {
		text = scrape(listen)
		if strings.Contains(text, "cert_expiry_expiry{") && strings.Contains(text, "cert_expiry_discovery_synced{") && strings.Contains(text, "certbot_renewal_not_after{") {
			samples = parseExposition(t, text)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no complete scrape within 60 s; last:\n%s", text)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// The names: every numeric and boolean field, nothing else.
	names := map[string]bool{}
	for _, s := range samples {
		names[s.name] = true
	}
	wantNames := []string{
		"cert_expiry_age", "cert_expiry_chain_expiry", "cert_expiry_discovery_api_requests", "cert_expiry_discovery_domains",
		"cert_expiry_discovery_pods", "cert_expiry_discovery_probes", "cert_expiry_discovery_skipped_duplicate_address",
		"cert_expiry_discovery_skipped_finished", "cert_expiry_discovery_skipped_no_ip", "cert_expiry_discovery_skipped_no_port",
		"cert_expiry_discovery_skipped_not_ready", "cert_expiry_discovery_skipped_terminating", "cert_expiry_discovery_synced",
		"cert_expiry_discovery_targets", "cert_expiry_expiry", "cert_expiry_handshake_ms", "cert_expiry_hostname_match",
		"cert_expiry_lifetime", "cert_expiry_not_after", "cert_expiry_not_before", "cert_expiry_status_code",
		"cert_expiry_verified", "certbot_renewal_lifetime", "certbot_renewal_not_after", "certbot_renewal_not_before",
		"certbot_renewal_renewed_count",
	}
	var gotNames []string
	for n := range names {
		gotNames = append(gotNames, n)
	}
	sort.Strings(gotNames)
	if !slices.Equal(gotNames, wantNames) {
		t.Errorf("metric names\n%q\nwant\n%q\nscrape:\n%s", gotNames, wantNames, text)
	}

	// Every metric a rule uses is exposed.
	for rule, used := range ruleMetrics(t, filepath.Join(deployDir(t), "certexpiry-rules.yml")) {
		if len(used) == 0 {
			t.Errorf("rule %s: no metric found in its expression", rule)
		}
		for _, m := range used {
			if !names[m] {
				t.Errorf("rule %s uses %s, which Telegraf does not expose", rule, m)
			}
		}
	}

	// Labels: the tags only — no status, no certificate or error texts.
	wantLabels := map[string]string{
		"cert_expiry_discovery_": "host,scope,source",
		"cert_expiry_":           "address,domain,host,port,source",
		"certbot_renewal_":       "domain,host",
	}
	for _, s := range samples {
		var keys []string
		for k := range s.labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, prefix := range []string{"cert_expiry_discovery_", "cert_expiry_", "certbot_renewal_"} {
			if strings.HasPrefix(s.name, prefix) {
				if got := strings.Join(keys, ","); got != wantLabels[prefix] {
					t.Errorf("%s%v: labels %s, want %s", s.name, s.labels, got, wantLabels[prefix])
				}
				break
			}
		}
	}

	// Values, per probe: status_code and verified.
	value := func(name, address string) string {
		for _, s := range samples {
			if s.name == name && s.labels["address"] == address {
				return s.value
			}
		}
		return "absent"
	}
	for _, c := range []struct{ address, status, verified string }{{"127.0.0.1", "0", "1"}, {"127.0.0.2", "1", "0"}, {"127.0.0.3", "4", "absent"}} {
		if s, v := value("cert_expiry_status_code", c.address), value("cert_expiry_verified", c.address); s != c.status || v != c.verified {
			t.Errorf("%s: status_code %s verified %s, want %s %s", c.address, s, v, c.status, c.verified)
		}
	}
	if t.Failed() {
		return
	}

	// The rules on these very series, held for two hours as Prometheus would scrape them:
	// at minute 61 exactly these alerts fire (nothing about the healthy backend's expiry).
	var tests strings.Builder
	fmt.Fprintf(&tests, "rule_files:\n  - %s\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n",
		filepath.Join(deployDir(t), "certexpiry-rules.yml"))
	for _, s := range samples {
		v, err := strconv.ParseFloat(s.value, 64)
		if err != nil {
			t.Fatalf("%s: value %q: %v", s.name, s.value, err)
		}
		fmt.Fprintf(&tests, "      - series: '%s{job=\"telegraf\",instance=\"i\"%s}'\n        values: '%sx120'\n",
			s.name, labelText(s.labels), strconv.FormatFloat(v, 'f', -1, 64))
	}
	tests.WriteString("    promql_expr_test:\n      - expr: ALERTS{alertstate=\"firing\"}\n        eval_time: 61m\n        exp_samples:\n")
	firing := func(alert, severity, labels string) {
		fmt.Fprintf(&tests, "          - labels: 'ALERTS{alertname=%q,alertstate=\"firing\",severity=%q,job=\"telegraf\",instance=\"i\",host=\"telegraf-test\"%s}'\n            value: 1\n",
			alert, severity, labels)
	}
	static := func(address string, port int) string {
		return fmt.Sprintf(`,source="static",address=%q,port="%d",domain="shop.test"`, address, port)
	}
	firing("CertificateDiscoveryNotSynced", "warning", `,source="kubernetes",scope="cluster"`)
	firing("CertificateExpired", "critical", static("127.0.0.2", expired.Port()))
	firing("CertificateProbeFailed", "critical", static("127.0.0.3", closed))
	// Both backends serve a certificate older than the renewed one: stale, the expired one too.
	firing("CertificateStale", "warning", static("127.0.0.1", good.Port()))
	firing("CertificateStale", "warning", static("127.0.0.2", expired.Port()))
	testFile := writeFile(t, dir, "scraped.test.yml", tests.String())
	cmd := exec.Command(promtoolBin, "test", "rules", testFile)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the rules on the scraped series: %v\n%s\n--- %s ---\n%s", err, out, testFile, tests.String())
	}
}

// labelText renders labels as ,k="v" pairs in sorted order.
func labelText(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&b, ",%s=%q", k, labels[k])
	}
	return b.String()
}

func scrape(addr string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
