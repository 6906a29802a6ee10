package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

func runArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestConfigErrorsStopStartUp(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.conf")
	os.WriteFile(typo, []byte("[[inputs.certexpiry]]\ndomains = [\"a.test\"]\ntimout = \"1s\"\n"), 0o600)
	invalid := filepath.Join(dir, "invalid.conf")
	os.WriteFile(invalid, []byte("[[inputs.certexpiry]]\ndomains = [\"a.test\"]\nmax_concurrency = 0\n[[inputs.certexpiry.target]]\naddress = \"h:1\"\n"), 0o600)
	cases := []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, 2, "E! -config is required: the plugin configuration file with one [[inputs.certexpiry]] block\n"},
		{[]string{"-config", typo}, 1, "E! Err loading input: " + typo + ": unknown option inputs.certexpiry.timout (did you mean timeout?)\n"},
		{[]string{"-config", invalid}, 1, "E! Err loading input: failed to init input: max_concurrency: must be at least 1, got 0\n" +
			"E! target[0].address: \"h:1\" includes a port; use address = \"h\" and ports = [1]\n"},
		{[]string{"-config", typo, "extra"}, 2, "E! unexpected argument \"extra\" (subcommands: check, certbot-hook)\n"},
		// The shim's ticker panics on a negative interval; a tiny one would hammer every backend.
		{[]string{"-config", typo, "-poll_interval", "-5s"}, 2, "E! -poll_interval: must be at least 1s, got -5s (with execd's signal = \"STDIN\" use -poll_interval_disabled instead)\n"},
		{[]string{"-config", typo, "-poll_interval", "1ms"}, 2, "E! -poll_interval: must be at least 1s, got 1ms (with execd's signal = \"STDIN\" use -poll_interval_disabled instead)\n"},
		{[]string{"-config", typo, "-poll_interval", "0s", "-poll_interval_disabled"}, 2, "E! -poll_interval: must be at least 1s, got 0s (with execd's signal = \"STDIN\" use -poll_interval_disabled instead)\n"},
		// 1s passes the check: start-up goes on to the config file.
		{[]string{"-config", typo, "-poll_interval", "1s"}, 1, "E! Err loading input: " + typo + ": unknown option inputs.certexpiry.timout (did you mean timeout?)\n"},
	}
	for _, tc := range cases {
		code, _, stderr := runArgs(t, tc.args...)
		if code != tc.code || stderr != tc.stderr {
			t.Errorf("run %q = %d\n%s\nwant %d\n%s", tc.args, code, stderr, tc.code, tc.stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"-version"}, {"version"}} {
		code, out, _ := runArgs(t, args...)
		if code != 0 || !strings.HasPrefix(out, "telegraf-certexpiry dev (go1.") {
			t.Errorf("%v: %d %q", args, code, out)
		}
	}
}

func TestCheckPrintsTable(t *testing.T) {
	now := time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	root, _ := testcerts.NewCA("Check Root", now.Add(-day), now.Add(365*day))
	good, _ := root.Issue(testcerts.Options{DNSNames: []string{"a.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(80*day + 5*time.Hour)})
	srv, err := testcerts.ServeLeaf("127.0.0.1:0", good)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	closed := testenv.FreePort(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, root.CertPEM(), 0o600)

	var stdout, stderr bytes.Buffer
	args := []string{"-domain", "a.test", "-domain", "b.test", "-ca-file", caFile, srv.Addr(), fmt.Sprintf("127.0.0.1:%d", closed)}
	code := runCheckWith(context.Background(), args, &stdout, &stderr, checkOptions{now: func() time.Time { return now }})
	if code != 1 {
		t.Errorf("exit %d, want 1 (not every probe is valid)", code)
	}
	p, c := fmt.Sprint(srv.Port()), fmt.Sprint(closed)
	want := strings.Join([]string{
		"ADDRESS    PORT   DOMAIN  STATUS       EXPIRES IN  NOT AFTER          VERIFIED  ISSUER      DETAIL",
		"127.0.0.1  " + p + "  a.test  valid        80d 5h      2030-09-03 17:00Z  yes       Check Root  ",
		"127.0.0.1  " + p + "  b.test  not_found    80d 5h      2030-09-03 17:00Z  no        Check Root  x509: certificate is valid for a.test, not b.test",
		"127.0.0.1  " + c + "  a.test  unreachable  -           -                  -         -           dial 127.0.0.1:" + c + ": dial tcp 127.0.0.1:" + c + ": connect: connection refused",
		"127.0.0.1  " + c + "  b.test  unreachable  -           -                  -         -           dial 127.0.0.1:" + c + ": dial tcp 127.0.0.1:" + c + ": connect: connection refused",
		"",
	}, "\n")
	if stdout.String() != want {
		t.Errorf("table\n%s\nwant\n%s", stdout.String(), want)
	}

	stdout.Reset()
	code = runCheckWith(context.Background(), []string{"-domain", "a.test", "-ca-file", caFile, srv.Addr()}, &stdout, &stderr, checkOptions{now: func() time.Time { return now }})
	if code != 0 {
		t.Errorf("all valid: exit %d, want 0\n%s", code, stdout.String())
	}
}

func TestCheckUsageErrors(t *testing.T) {
	cases := map[string][]string{
		"check: no targets: give host[:port] arguments or -config\n":                       {},
		"check: \"127.0.0.1\" is an IP address: name the domain to ask for with -domain\n": {"127.0.0.1"},
		"check: \"h:99999\": port must be a number in 1-65535\n":                           {"h:99999"},
		"check: -timeout: must be positive, got \"0s\"\n":                                  {"-timeout", "0", "h"},
		"check: -tls-cert: -tls-cert and -tls-key must be set together\n":                  {"-tls-cert", "c.pem", "h"},
		"check: -ca-file: open /nonexistent/ca.pem: no such file or directory\n":           {"-ca-file", "/nonexistent/ca.pem", "h"},
		"check: \"[::1\": address [::1: missing ']' in address\n":                          {"[::1"},
	}
	for want, args := range cases {
		var stdout, stderr bytes.Buffer
		code := runCheck(context.Background(), args, &stdout, &stderr)
		if code != 2 || stderr.String() != want {
			t.Errorf("check %q = %d %q, want 2 %q", args, code, stderr.String(), want)
		}
	}
}

// check -config runs exactly what the plugin config describes.
func TestCheckRunsPluginConfig(t *testing.T) {
	now := time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	root, _ := testcerts.NewCA("Config Root", now.Add(-day), now.Add(365*day))
	leaf, _ := root.Issue(testcerts.Options{DNSNames: []string{"c.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(-time.Hour)})
	srv, err := testcerts.ServeLeaf("127.0.0.1:0", leaf)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, root.CertPEM(), 0o600)
	conf := filepath.Join(dir, "plugin.conf")
	// The spool must survive a check: its lines are Telegraf's to deliver.
	spool := filepath.Join(dir, "spool.lp")
	spoolLine := "certbot_renewal,domain=all,host=h renewed_count=1 1795335563914642600\n"
	os.WriteFile(spool, []byte(spoolLine), 0o600)
	os.WriteFile(conf, []byte(fmt.Sprintf("[[inputs.certexpiry]]\ndomains = [\"c.test\"]\ntls_ca = %q\ncertbot_spool = %q\n[[inputs.certexpiry.target]]\naddress = \"127.0.0.1\"\nports = [%d]\n", caFile, spool, srv.Port())), 0o600)

	var stdout, stderr bytes.Buffer
	code := runCheckWith(context.Background(), []string{"-config", conf}, &stdout, &stderr, checkOptions{now: func() time.Time { return now }})
	if code != 1 {
		t.Errorf("exit %d, want 1 (expired)", code)
	}
	p := fmt.Sprint(srv.Port())
	want := "ADDRESS    PORT   DOMAIN  STATUS   EXPIRES IN  NOT AFTER          VERIFIED  ISSUER       DETAIL\n" +
		"127.0.0.1  " + p + "  c.test  expired  -1h         2030-06-15 11:00Z  no        Config Root  x509: certificate has expired or is not yet valid: current time 2030-06-15T12:00:00Z is after 2030-06-15T11:00:00Z\n"
	if stdout.String() != want || stderr.Len() != 0 {
		t.Errorf("table\n%s\nwant\n%s\nstderr: %s", stdout.String(), want, stderr.String())
	}

	if b, _ := os.ReadFile(spool); string(b) != spoolLine {
		t.Errorf("check consumed the certbot spool: now %q", b)
	}

	stderr.Reset()
	if code := runCheck(context.Background(), []string{"-config", conf, "h"}, &stdout, &stderr); code != 2 || stderr.String() != "check: give either -config or host arguments, not both\n" {
		t.Errorf("both: %d %q", code, stderr.String())
	}
	typo := filepath.Join(dir, "typo.conf")
	os.WriteFile(typo, []byte("[[inputs.certexpiry]]\ndomain = [\"c.test\"]\n"), 0o600)
	stderr.Reset()
	if code := runCheck(context.Background(), []string{"-config", typo}, &stdout, &stderr); code != 2 || stderr.String() != "check: "+typo+": unknown option inputs.certexpiry.domain (did you mean domains?)\n" {
		t.Errorf("typo: %d %q", code, stderr.String())
	}
}

func TestTableShowsPodsWhenThereAreAny(t *testing.T) {
	rows := []metrictest.Row{
		{Measurement: "cert_expiry", Tags: map[string]string{"source": "kubernetes", "namespace": "shop", "pod": "web-1", "address": "10.0.0.7", "port": "443", "domain": "a.test", "status": "expired"},
			Fields: map[string]any{"status_code": int64(1), "expiry": int64(-90000), "not_after": int64(1900000000), "verified": false, "issuer": "CN=R11,O=Let's Encrypt,C=US", "verification_error": "x509: expired"}},
		{Measurement: "cert_expiry", Tags: map[string]string{"source": "static", "address": "h.test", "port": "443", "domain": "h.test", "status": "timeout"},
			Fields: map[string]any{"status_code": int64(6), "error": "handshake h.test:443: context deadline exceeded"}},
	}
	var out bytes.Buffer
	printTable(&out, rows)
	want := "POD         ADDRESS   PORT  DOMAIN  STATUS   EXPIRES IN  NOT AFTER          VERIFIED  ISSUER  DETAIL\n" +
		"shop/web-1  10.0.0.7  443   a.test  expired  -1d 1h      2030-03-17 17:46Z  no        R11     x509: expired\n" +
		"-           h.test    443   h.test  timeout  -           -                  -         -       handshake h.test:443: context deadline exceeded\n"
	if out.String() != want {
		t.Fatalf("table\n%s\nwant\n%s", out.String(), want)
	}
}
