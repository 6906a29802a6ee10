package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/discovery"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/probe"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/plugin"
)

var checkNow = time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// checkPKI is a root and a CA file holding it.
type checkPKI struct {
	root   *testcerts.CA
	caFile string
}

func newCheckPKI(t *testing.T) checkPKI {
	t.Helper()
	root, err := testcerts.NewCA("Check Root", checkNow.Add(-365*day), checkNow.Add(3650*day))
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, root.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return checkPKI{root: root, caFile: caFile}
}

// serveCert serves a certificate for domain, valid from notBefore to notAfter.
func (k checkPKI) serveCert(t *testing.T, domain string, notBefore, notAfter time.Time) *testcerts.Server {
	t.Helper()
	leaf, err := k.root.Issue(testcerts.Options{DNSNames: []string{domain}, NotBefore: notBefore, NotAfter: notAfter})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := testcerts.ServeLeaf("127.0.0.1:0", leaf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func check(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runCheckWith(context.Background(), args, &stdout, &stderr, checkOptions{now: func() time.Time { return checkNow }})
	return code, stdout.String(), stderr.String()
}

func TestCheckPrintsSummaryAndTable(t *testing.T) {
	k := newCheckPKI(t)
	srv := k.serveCert(t, "a.test", checkNow.Add(-day), checkNow.Add(80*day+5*time.Hour))
	closed := testenv.FreePort(t)
	code, stdout, stderr := check(t, "-domain", "a.test", "-domain", "b.test", "-tls-ca", k.caFile, srv.Addr(), fmt.Sprintf("127.0.0.1:%d", closed))
	if code != 2 {
		t.Errorf("exit %d, want 2 (CRITICAL: not every probe is valid)", code)
	}
	p, c := fmt.Sprint(srv.Port()), fmt.Sprint(closed)
	// 81d5h lifetime = 7016400 s: WARNING at L/4 = 1754100 s left, CRITICAL at L/6 = 1169400 s.
	want := strings.Join([]string{
		"CERTEXPIRY CRITICAL - 4 probes: 3 critical, 1 ok; b.test at 127.0.0.1:" + p + " not_found: x509: certificate is valid for a.test, not b.test (and 2 more critical)" +
			" | a.test@127.0.0.1:" + p + "=6930000s;1754100:;1169400:;;7016400",
		"STATE     ADDRESS    PORT   DOMAIN  STATUS       EXPIRES     NOT AFTER          VERIFIED  ISSUER      DETAIL",
		"OK        127.0.0.1  " + p + "  a.test  valid        in 80 days  2030-09-03 17:00Z  yes       Check Root  ",
		"CRITICAL  127.0.0.1  " + p + "  b.test  not_found    in 80 days  2030-09-03 17:00Z  no        Check Root  x509: certificate is valid for a.test, not b.test",
		"CRITICAL  127.0.0.1  " + c + "  a.test  unreachable  -           -                  -         -           dial 127.0.0.1:" + c + ": connect: connection refused",
		"CRITICAL  127.0.0.1  " + c + "  b.test  unreachable  -           -                  -         -           dial 127.0.0.1:" + c + ": connect: connection refused",
		"",
	}, "\n")
	if stdout != want || stderr != "" {
		t.Errorf("stdout\n%s\nwant\n%s\nstderr %q", stdout, want, stderr)
	}
}

// The exit code is the monitoring-plugins state; the thresholds follow each certificate's
// lifetime unless -warning / -critical are given.
func TestCheckExitCodes(t *testing.T) {
	k := newCheckPKI(t)
	// 90-day certificates: WARNING with 22.5 days left, CRITICAL with 15.
	left := func(d time.Duration) string {
		return k.serveCert(t, "a.test", checkNow.Add(d-90*day), checkNow.Add(d)).Addr()
	}
	fresh, due, overdue, late, expired := left(60*day), left(25*day), left(20*day), left(10*day), left(-9*day-23*time.Hour)
	untrusted := k.serveCert(t, "a.test", checkNow.Add(-day), checkNow.Add(60*day)).Addr()
	cases := []struct {
		args []string
		code int
		line string
	}{
		{[]string{fresh}, 0, "CERTEXPIRY OK - 1 probe: 1 ok; soonest: a.test at " + fresh + " expires in 60 days |"},
		{[]string{due}, 0, "CERTEXPIRY OK - 1 probe: 1 ok; soonest: a.test at " + due + " expires in 25 days |"},
		{[]string{overdue}, 1, "CERTEXPIRY WARNING - 1 probe: 1 warning; a.test at " + overdue + " expires in 20 days (warning at 22 days left: renewal overdue for a 90-day certificate) |"},
		{[]string{late}, 2, "CERTEXPIRY CRITICAL - 1 probe: 1 critical; a.test at " + late + " expires in 10 days (critical at 15 days left: renewal overdue for a 90-day certificate) |"},
		{[]string{expired}, 2, "CERTEXPIRY CRITICAL - 1 probe: 1 critical; a.test at " + expired + " expired 9 days ago |"},
		{[]string{"-warning", "21d", overdue}, 1, "CERTEXPIRY WARNING - 1 probe: 1 warning; a.test at " + overdue + " expires in 20 days (warning at 21 days left) |"},
		{[]string{"-warning", "14d", "-critical", "7d", overdue}, 0, "CERTEXPIRY OK - 1 probe: 1 ok; soonest: a.test at " + overdue + " expires in 20 days |"},
		{[]string{"-critical", "30d", overdue}, 2, "CERTEXPIRY CRITICAL - 1 probe: 1 critical; a.test at " + overdue + " expires in 20 days (critical at 30 days left) |"},
		{[]string{"-warning", "7d12h", "-critical", "7d", fresh, late}, 0, "CERTEXPIRY OK - 2 probes: 2 ok; soonest: a.test at " + late + " expires in 10 days |"},
		{[]string{fresh, overdue, late}, 2, "CERTEXPIRY CRITICAL - 3 probes: 1 critical, 1 warning, 1 ok; a.test at " + late + " expires in 10 days (critical at 15 days left: renewal overdue for a 90-day certificate) |"},
		// The summary names the probe that matters most: the expired one, not the first.
		{[]string{late, expired}, 2, "CERTEXPIRY CRITICAL - 2 probes: 2 critical; a.test at " + expired + " expired 9 days ago (and 1 more critical) |"},
		{[]string{"-critical", "2h", "-warning", "1h", fresh}, 3, "CERTEXPIRY UNKNOWN - -critical 2h is longer than -warning 1h: WARNING would never show\n"},
	}
	for _, tc := range cases {
		args := append([]string{"-domain", "a.test", "-tls-ca", k.caFile}, tc.args...)
		code, stdout, _ := check(t, args...)
		first, _, _ := strings.Cut(stdout, "\n")
		if code != tc.code || !strings.HasPrefix(first+"\n", tc.line) {
			t.Errorf("check %q = %d\n%s\nwant %d\n%s", tc.args, code, first, tc.code, tc.line)
		}
	}
	// Trusted by nobody: valid, but its chain does not verify.
	code, stdout, _ := check(t, "-domain", "a.test", untrusted)
	if want := "CERTEXPIRY WARNING - 1 probe: 1 warning; a.test at " + untrusted + " chain does not verify: x509: certificate signed by unknown authority |"; code != 1 || !strings.HasPrefix(stdout, want) {
		t.Errorf("untrusted: %d\n%s\nwant 1\n%s", code, stdout, want)
	}
}

// cert is a served certificate for judge: only what judge reads.
func cert(notBefore, notAfter time.Time) *x509.Certificate {
	return &x509.Certificate{NotBefore: notBefore, NotAfter: notAfter, Issuer: pkix.Name{CommonName: "R11"}}
}

// The relative rule at its edges, for the lifetimes issuers use, and the fixed thresholds.
func TestJudgeThresholds(t *testing.T) {
	tg := &target.Target{Source: target.SourceStatic, Address: "192.0.2.1", Ports: []int{443}, Domains: []string{"a.test"}}
	valid := func(lifetime, left time.Duration) probe.Result {
		return probe.Result{Probe: target.Probe{Target: tg, Port: 443, Domain: "a.test"}, Status: probe.StatusValid, At: checkNow,
			Chain: []*x509.Certificate{cert(checkNow.Add(left-lifetime), checkNow.Add(left))}, Verified: true, HostnameMatch: true}
	}
	fixed := func(warning, critical string) thresholds {
		var th thresholds
		if warning != "" {
			th.warning.Set(warning)
		}
		if critical != "" {
			th.critical.Set(critical)
		}
		return th
	}
	shortLived := 160 * time.Hour
	lifetime90 := 90*day - time.Second
	cases := []struct {
		r      probe.Result
		th     thresholds
		state  state
		reason string
	}{
		// 160-hour certificates: renewal due with 80 h left; WARNING with L/3 = 53h20m left.
		{valid(shortLived, 53*time.Hour+21*time.Minute), thresholds{}, stateOK, "expires in 53 hours"},
		{valid(shortLived, 53*time.Hour+20*time.Minute), thresholds{}, stateWarning, "expires in 53 hours (warning at 53 hours left: renewal overdue for a 160-hour certificate)"},
		{valid(shortLived, 26*time.Hour+40*time.Minute), thresholds{}, stateCritical, "expires in 26 hours (critical at 26 hours left: renewal overdue for a 160-hour certificate)"},
		// 90-day certificates (one second short): WARNING with L/4 ≈ 22.5 days left, CRITICAL with L/6 = 15.
		{valid(lifetime90, 22*day+12*time.Hour), thresholds{}, stateOK, "expires in 22 days"},
		{valid(lifetime90, 22*day+11*time.Hour), thresholds{}, stateWarning, "expires in 22 days (warning at 22 days left: renewal overdue for a 90-day certificate)"},
		{valid(lifetime90, 15*day-time.Second), thresholds{}, stateCritical, "expires in 14 days (critical at 14 days left: renewal overdue for a 90-day certificate)"},
		// Fixed thresholds, each on its own.
		{valid(lifetime90, 21*day), fixed("21d", ""), stateWarning, "expires in 21 days (warning at 21 days left)"},
		{valid(lifetime90, 21*day+time.Second), fixed("21d", ""), stateOK, "expires in 21 days"},
		{valid(lifetime90, 14*day), fixed("", "14d"), stateCritical, "expires in 14 days (critical at 14 days left)"},
		{valid(lifetime90, 14*day), fixed("", "7d"), stateWarning, "expires in 14 days (warning at 22 days left: renewal overdue for a 90-day certificate)"},
		{valid(lifetime90, 90*time.Minute), fixed("2h", "1h"), stateWarning, "expires in 90 minutes (warning at 2 hours left)"},
	}
	for _, tc := range cases {
		got := judge(&tc.r, tc.th, false)
		if got.state != tc.state || got.reason != tc.reason {
			t.Errorf("%v left: %v %q\nwant %v %q", tc.r.Leaf().NotAfter.Sub(checkNow), got.state, got.reason, tc.state, tc.reason)
		}
	}

	failed := probe.Result{Probe: target.Probe{Target: tg, Port: 443, Domain: "a.test"}, Status: probe.StatusTimeout, At: checkNow,
		Err: &probe.Error{Step: "handshake", Address: "192.0.2.1:443", Err: errors.New("context deadline exceeded")}}
	if got := judge(&failed, thresholds{}, false); got.state != stateCritical || got.reason != "timeout: handshake 192.0.2.1:443: context deadline exceeded" {
		t.Errorf("timeout: %v %q", got.state, got.reason)
	}
	future := valid(lifetime90, 100*day)
	future.Status = probe.StatusNotYetValid
	if got := judge(&future, thresholds{}, false); got.state != stateCritical || got.reason != "not valid before 2030-06-25 12:00Z" {
		t.Errorf("not yet valid: %v %q", got.state, got.reason)
	}
}

// Kubernetes discovery that cannot list pods makes the check UNKNOWN at least: the pods it
// would have probed are not judged. A bad probe still outweighs it.
func TestSummaryKubernetesTrouble(t *testing.T) {
	ok := checked{address: "10.0.0.7", port: 443, domain: "a.test", hasCert: true, left: 60 * day, lifetime: 90 * day, warn: 22 * day, crit: 15 * day, state: stateOK, reason: "expires in 60 days"}
	bad := checked{address: "10.0.0.8", port: 443, domain: "a.test", status: probe.StatusUnreachable, state: stateCritical, reason: "unreachable: dial 10.0.0.8:443: connect: connection refused"}
	trouble := &plugin.Run{Discovery: &discovery.Snapshot{Synced: true, Error: "pods in namespace shop: connection refused"}}
	unsynced := &plugin.Run{Discovery: &discovery.Snapshot{}}
	cases := []struct {
		probes []checked
		run    *plugin.Run
		want   string
	}{
		{[]checked{ok}, trouble, "CERTEXPIRY UNKNOWN - 1 probe: 1 ok; soonest: a.test at 10.0.0.7:443 expires in 60 days; kubernetes: pods in namespace shop: connection refused | a.test@10.0.0.7:443=5184000s;1900800:;1296000:;;7776000"},
		{[]checked{ok, bad}, trouble, "CERTEXPIRY CRITICAL - 2 probes: 1 critical, 1 ok; a.test at 10.0.0.8:443 unreachable: dial 10.0.0.8:443: connect: connection refused; kubernetes: pods in namespace shop: connection refused | a.test@10.0.0.7:443=5184000s;1900800:;1296000:;;7776000"},
		{nil, unsynced, "CERTEXPIRY UNKNOWN - no probes: no targets found; kubernetes: pods not listed within sync_timeout"},
		{nil, &plugin.Run{}, "CERTEXPIRY UNKNOWN - no probes: no targets found"},
	}
	for _, tc := range cases {
		res := summarize(tc.probes, tc.run)
		if got := res.line(); got != tc.want {
			t.Errorf("%s\nwant\n%s", got, tc.want)
		}
	}
}

// -format json is one document with the state, the summary and every row as Telegraf's json
// serializer shapes it; -format influx is the rows Telegraf would get, as line protocol.
func TestCheckFormats(t *testing.T) {
	k := newCheckPKI(t)
	srv := k.serveCert(t, "a.test", checkNow.Add(-day), checkNow.Add(60*day))
	closed := testenv.FreePort(t)
	args := []string{"-domain", "a.test", "-ca-file", k.caFile, srv.Addr(), fmt.Sprintf("127.0.0.1:%d", closed)}
	refused := fmt.Sprintf("dial 127.0.0.1:%d: connect: connection refused", closed)

	code, stdout, stderr := check(t, append([]string{"-format", "json"}, args...)...)
	var doc struct {
		State     string
		ExitCode  int `json:"exit_code"`
		Summary   string
		Probes    []jsonRow
		Discovery *jsonRow
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != 2 || stderr != "" {
		t.Fatalf("json: exit %d, %v\n%s\nstderr %q", code, err, stdout, stderr)
	}
	wantSummary := fmt.Sprintf("2 probes: 1 critical, 1 ok; a.test at 127.0.0.1:%d unreachable: %s", closed, refused)
	if doc.State != "CRITICAL" || doc.ExitCode != 2 || doc.Summary != wantSummary || len(doc.Probes) != 2 || doc.Discovery != nil {
		t.Fatalf("json document %+v", doc)
	}
	good, bad := doc.Probes[0], doc.Probes[1]
	if good.Name != "cert_expiry" || good.State != "OK" || good.Reason != "expires in 60 days" || good.Timestamp != checkNow.Unix() ||
		good.Tags["status"] != "valid" || good.Fields["expiry"] != float64(60*86400) || good.Fields["verified"] != true || good.Fields["issuer"] != "CN=Check Root,O=telegraf-certexpiry tests" {
		t.Errorf("json probe %+v", good)
	}
	wantBad := jsonRow{Name: "cert_expiry", Timestamp: checkNow.Unix(), State: "CRITICAL", Reason: "unreachable: " + refused,
		Tags:   map[string]string{"source": "static", "address": "127.0.0.1", "port": fmt.Sprint(closed), "domain": "a.test", "status": "unreachable"},
		Fields: map[string]any{"status_code": float64(4), "error": refused}}
	if !reflect.DeepEqual(bad, wantBad) {
		t.Errorf("json probe\n%+v\nwant\n%+v", bad, wantBad)
	}

	code, stdout, stderr = check(t, append([]string{"-format", "influx"}, args...)...)
	rows, err := metrictest.ParseLineProtocol([]byte(stdout))
	if err != nil || code != 2 || stderr != "" || len(rows) != 2 {
		t.Fatalf("influx: exit %d, %v, %d rows\n%s\nstderr %q", code, err, len(rows), stdout, stderr)
	}
	wantRow := metrictest.Row{Measurement: "cert_expiry", Time: checkNow,
		Tags:   map[string]string{"source": "static", "address": "127.0.0.1", "port": fmt.Sprint(closed), "domain": "a.test", "status": "unreachable"},
		Fields: map[string]any{"status_code": int64(4), "error": refused}}
	if !rows[1].Time.Equal(checkNow) || !reflect.DeepEqual(rows[1].Tags, wantRow.Tags) || !reflect.DeepEqual(rows[1].Fields, wantRow.Fields) {
		t.Errorf("influx row\n%v\nwant\n%v", rows[1], wantRow)
	}
	if rows[0].Fields["expiry"] != int64(60*86400) || rows[0].Tags["status"] != "valid" {
		t.Errorf("influx row %v", rows[0])
	}

	// A usage error leaves stdout parseable: it goes to stderr.
	code, stdout, stderr = check(t, "-format", "json")
	if code != 3 || stdout != "" || stderr != "check: no targets: give host[:port] arguments or -config\n" {
		t.Errorf("json usage error: %d %q %q", code, stdout, stderr)
	}
}

func TestCheckUsageErrors(t *testing.T) {
	cases := map[string][]string{
		"no targets: give host[:port] arguments or -config":                       {},
		"\"127.0.0.1\" is an IP address: name the domain to ask for with -domain": {"127.0.0.1"},
		"\"h:99999\": port must be a number in 1-65535":                           {"h:99999"},
		"-timeout: must be positive, got \"0s\"":                                  {"-timeout", "0", "h"},
		"-tls-cert: -tls-cert and -tls-key must be set together":                  {"-tls-cert", "c.pem", "h"},
		"-tls-ca: open /nonexistent/ca.pem: no such file or directory":            {"-tls-ca", "/nonexistent/ca.pem", "h"},
		"\"[::1\": address [::1: missing ']' in address":                          {"[::1"},
		"-format: \"xml\" is not one of table, json, influx":                      {"-format", "xml", "h"},
	}
	for want, args := range cases {
		var stdout, stderr bytes.Buffer
		code := runCheck(context.Background(), args, &stdout, &stderr)
		if code != 3 || stdout.String() != "CERTEXPIRY UNKNOWN - "+want+"\n" || stderr.Len() != 0 {
			t.Errorf("check %q = %d %q %q, want 3 %q", args, code, stdout.String(), stderr.String(), want)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := runCheck(context.Background(), []string{"-warning", "soon", "h"}, &stdout, &stderr); code != 3 ||
		!strings.HasPrefix(stderr.String(), "invalid value \"soon\" for flag -warning: \"soon\" is not a duration: use a number with a unit, like 21d, 36h or 7d12h\n") {
		t.Errorf("bad -warning: %d %q", code, stderr.String())
	}
}

func TestParseDays(t *testing.T) {
	for in, want := range map[string]time.Duration{"21d": 21 * day, "36h": 36 * time.Hour, "7d12h": 7*day + 12*time.Hour, "0d": 0, "90m": 90 * time.Minute} {
		if got, err := parseDays(in); err != nil || got != want {
			t.Errorf("parseDays(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"1.5d", "d", "-1d", "7d-1h", "21", "3dd"} {
		var f thresholdFlag
		if err := f.Set(in); err == nil {
			t.Errorf("%q accepted as %v", in, f.d)
		}
	}
}

func TestHumanExpiry(t *testing.T) {
	for d, want := range map[time.Duration]string{
		80*day + 5*time.Hour:   "in 80 days",
		3 * day:                "in 3 days",
		71 * time.Hour:         "in 71 hours",
		2 * time.Hour:          "in 2 hours",
		119 * time.Minute:      "in 119 minutes",
		time.Minute:            "in 1 minute",
		30 * time.Second:       "in less than a minute",
		-30 * time.Second:      "expired less than a minute ago",
		-time.Hour:             "expired 60 minutes ago",
		-9*day - 23*time.Hour:  "expired 9 days ago",
		-(3*day - time.Second): "expired 71 hours ago",
		-(400 * day):           "expired 400 days ago",
	} {
		if got := humanExpiry(d); got != want {
			t.Errorf("humanExpiry(%v) = %q, want %q", d, got, want)
		}
	}
}

// check -config runs exactly what the plugin config describes, and leaves the certbot spool
// to Telegraf.
func TestCheckRunsPluginConfig(t *testing.T) {
	k := newCheckPKI(t)
	srv := k.serveCert(t, "c.test", checkNow.Add(-day), checkNow.Add(-time.Hour))
	dir := t.TempDir()
	conf := filepath.Join(dir, "plugin.conf")
	spool := filepath.Join(dir, "spool.lp")
	spoolLine := "certbot_renewal,domain=all,host=h renewed_count=1 1795335563914642600\n"
	os.WriteFile(spool, []byte(spoolLine), 0o600)
	os.WriteFile(conf, []byte(fmt.Sprintf("[[inputs.certexpiry]]\ndomains = [\"c.test\"]\ntls_ca = %q\ncertbot_spool = %q\n[[inputs.certexpiry.target]]\naddress = \"127.0.0.1\"\nports = [%d]\n", k.caFile, spool, srv.Port())), 0o600)

	code, stdout, stderr := check(t, "-config", conf)
	p := fmt.Sprint(srv.Port())
	want := "CERTEXPIRY CRITICAL - 1 probe: 1 critical; c.test at 127.0.0.1:" + p + " expired 60 minutes ago | c.test@127.0.0.1:" + p + "=-3600s;27600:;13800:;;82800\n" +
		"STATE     ADDRESS    PORT   DOMAIN  STATUS   EXPIRES                 NOT AFTER          VERIFIED  ISSUER      DETAIL\n" +
		"CRITICAL  127.0.0.1  " + p + "  c.test  expired  expired 60 minutes ago  2030-06-15 11:00Z  no        Check Root  x509: certificate has expired (not after 2030-06-15T11:00:00Z)\n"
	if code != 2 || stdout != want || stderr != "" {
		t.Errorf("exit %d\n%s\nwant 2\n%s\nstderr: %s", code, stdout, want, stderr)
	}
	if b, _ := os.ReadFile(spool); string(b) != spoolLine {
		t.Errorf("check consumed the certbot spool: now %q", b)
	}

	if code, stdout, _ := check(t, "-config", conf, "h"); code != 3 || stdout != "CERTEXPIRY UNKNOWN - give either -config or host arguments, not both\n" {
		t.Errorf("both: %d %q", code, stdout)
	}
	typo := filepath.Join(dir, "typo.conf")
	os.WriteFile(typo, []byte("[[inputs.certexpiry]]\ndomain = [\"c.test\"]\n"), 0o600)
	if code, stdout, _ := check(t, "-config", typo); code != 3 || stdout != "CERTEXPIRY UNKNOWN - "+typo+": unknown option inputs.certexpiry.domain (did you mean domains?)\n" {
		t.Errorf("typo: %d %q", code, stdout)
	}
}

func TestTableShowsPodsWhenThereAreAny(t *testing.T) {
	probes := []checked{
		{source: "kubernetes", namespace: "shop", pod: "web-1", address: "10.0.0.7", port: 443, domain: "a.test", status: probe.StatusExpired,
			hasCert: true, left: -25 * time.Hour, notAfter: time.Unix(1900000000, 0), issuer: "R11", detail: "x509: certificate has expired (not after 2030-03-17T17:46:40Z)", state: stateCritical},
		{source: "static", address: "h.test", port: 443, domain: "h.test", status: probe.StatusTimeout, detail: "handshake h.test:443: context deadline exceeded", state: stateCritical},
	}
	var out bytes.Buffer
	printTable(&out, probes)
	want := "STATE     POD         ADDRESS   PORT  DOMAIN  STATUS   EXPIRES               NOT AFTER          VERIFIED  ISSUER  DETAIL\n" +
		"CRITICAL  shop/web-1  10.0.0.7  443   a.test  expired  expired 25 hours ago  2030-03-17 17:46Z  no        R11     x509: certificate has expired (not after 2030-03-17T17:46:40Z)\n" +
		"CRITICAL  -           h.test    443   h.test  timeout  -                     -                  -         -       handshake h.test:443: context deadline exceeded\n"
	if out.String() != want {
		t.Fatalf("table\n%s\nwant\n%s", out.String(), want)
	}
}

// Test helpers never ship: the binary's dependency list holds none of them.
func TestBinaryHoldsNoTestHelpers(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 || !strings.Contains(string(out), "/plugin\n") {
		t.Fatalf("go list -deps listed %d packages, not the binary's:\n%s", len(deps), out)
	}
	for _, dep := range deps {
		for _, helper := range []string{"/internal/metrictest", "/internal/testcerts", "/internal/testenv", "/testutil"} {
			if strings.HasSuffix(dep, helper) || strings.Contains(dep, helper+"/") {
				t.Errorf("the binary imports the test helper %s", dep)
			}
		}
	}
}
