package hook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
)

const clockNS = 1795335563914642600

var (
	nb = time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)
	na = nb.Add(90*24*time.Hour - time.Second)
)

const certFieldsValidity = "not_before=1795330800i,not_after=1803106799i,lifetime=7775999i"

// fixture is one test's world: a lineage with cert.pem, a config file, a spool path and a
// loopback server whose answers the test sets.
type fixture struct {
	t       *testing.T
	dir     string
	lineage string
	spool   string
	exe     string    // what os.Executable would say
	now     time.Time // the injected clock
	env     map[string]string
	slept   []time.Duration
	srv     *httptest.Server
	mu      sync.Mutex
	codes   []int // answers in turn; the last repeats; empty: 204
	body    string
	got     []string // request bodies
	queries []string
	// certFields are the certificate fields every point carries: the fixed validity
	// (certFieldsValidity) and the generated leaf's serial and fingerprint.
	certFields string
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, dir: t.TempDir(), now: time.Unix(0, clockNS)}
	f.lineage = filepath.Join(f.dir, "live", "test.example")
	f.spool = filepath.Join(f.dir, "spool", "certbot.lp")
	f.exe = filepath.Join(f.dir, "bin", "telegraf-certexpiry")
	if err := os.MkdirAll(filepath.Dir(f.exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.exe, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	ca, err := testcerts.NewCA("hook test CA", nb.Add(-time.Hour), na.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(testcerts.Options{CommonName: "test.example", DNSNames: []string{"test.example", "www.test.example"}, NotBefore: nb, NotAfter: na})
	if err != nil {
		t.Fatal(err)
	}
	fp := sha256.Sum256(leaf.Cert.Raw)
	f.certFields = certFieldsValidity + `,serial="` + leaf.Cert.SerialNumber.Text(16) + `",fingerprint_sha256="` + hex.EncodeToString(fp[:]) + `"`
	if err := os.MkdirAll(f.lineage, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.lineage, "cert.pem"), leaf.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.got = append(f.got, string(b))
		f.queries = append(f.queries, r.URL.Path+"?"+r.URL.RawQuery)
		code := 204
		if len(f.codes) > 0 {
			code = f.codes[0]
			if len(f.codes) > 1 {
				f.codes = f.codes[1:]
			}
		}
		w.WriteHeader(code)
		if code != 204 {
			io.WriteString(w, f.body)
		}
	}))
	t.Cleanup(f.srv.Close)
	f.env = map[string]string{
		"RENEWED_DOMAINS":         "test.example www.test.example",
		"RENEWED_LINEAGE":         f.lineage,
		"CERTEXPIRY_HOOK_CONFIG":  f.writeConfig("url = \"" + f.srv.URL + "\"\ndatabase = \"telegraf\"\n"),
		"CERTEXPIRY_HOOK_SPOOL":   f.spool,
		"CERTEXPIRY_HOOK_HOST":    "web 1",
		"CERTEXPIRY_HOOK_RETRIES": "2",
	}
	return f
}

func (f *fixture) writeConfig(body string) string {
	p := filepath.Join(f.dir, "hook.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// run runs the command with the fixture's clock and environment; sleeps are recorded, not slept.
func (f *fixture) run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	d := deps{
		getenv:     func(k string) string { return f.env[k] },
		stdout:     &out,
		stderr:     &errb,
		client:     f.srv.Client(),
		now:        func() time.Time { return f.now },
		sleep:      func(ctx context.Context, d time.Duration) error { f.slept = append(f.slept, d); return nil },
		hostname:   func() (string, error) { return "", errors.New("no hostname in tests") },
		executable: func() (string, error) { return f.exe, nil },
	}
	code = run(context.Background(), args, d)
	return code, strings.ReplaceAll(out.String(), f.srv.URL, "URL"), strings.ReplaceAll(errb.String(), f.srv.URL, "URL")
}

func (f *fixture) spooled() string {
	b, err := os.ReadFile(f.spool)
	if err != nil && !os.IsNotExist(err) {
		f.t.Fatal(err)
	}
	return string(b)
}

func linesAt(ns int64, fields string) string {
	ts := " " + strconv.FormatInt(ns, 10) + "\n"
	return "certbot_renewal,domain=all,host=web\\ 1 renewed_count=2" + fields + ts +
		"certbot_renewal,domain=test.example,host=web\\ 1 renewed_count=1" + fields + ts +
		"certbot_renewal,domain=www.test.example,host=web\\ 1 renewed_count=1" + fields + ts
}

func TestReportDelivers(t *testing.T) {
	f := newFixture(t)
	code, stdout, stderr := f.run()
	if code != 0 || stdout != "certbot-hook: delivered 3 lines to URL/write\n" || stderr != "" {
		t.Fatalf("code %d stdout %q stderr %q", code, stdout, stderr)
	}
	want := linesAt(f.now.UnixNano(), ","+f.certFields)
	if len(f.got) != 1 || f.got[0] != want {
		t.Fatalf("server got %q\nwant %q", f.got, want)
	}
	if f.queries[0] != "/write?db=telegraf&precision=ns" {
		t.Errorf("query %s", f.queries[0])
	}
	if s := f.spooled(); s != "" {
		t.Errorf("spool not emptied: %q", s)
	}
}

// TestReportServerDownThenUp: a renewal while the server is down stays spooled (exit 1); the
// next renewal delivers both, oldest first.
func TestReportServerDownThenUp(t *testing.T) {
	f := newFixture(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close()
	f.env["CERTEXPIRY_HOOK_URL"] = "http://" + down
	code, _, stderr := f.run()
	first := linesAt(f.now.UnixNano(), ","+f.certFields)
	want := "certbot-hook: attempt 1 failed, retrying in 1s: posting to http://" + down + "/write: dial tcp " + down + ": connect: connection refused\n" +
		"certbot-hook: attempt 2 failed, retrying in 2s: posting to http://" + down + "/write: dial tcp " + down + ": connect: connection refused\n" +
		"certbot-hook: 3 attempts failed, last: posting to http://" + down + "/write: dial tcp " + down + ": connect: connection refused\n" +
		"certbot-hook: 3 lines stay in " + f.spool + " for the next run (or `telegraf-certexpiry certbot-hook flush`)\n"
	if code != 1 || stderr != want {
		t.Fatalf("code %d stderr\n%s\nwant\n%s", code, stderr, want)
	}
	if f.spooled() != first {
		t.Fatalf("spool %q", f.spooled())
	}
	if len(f.slept) != 2 || f.slept[0] != time.Second || f.slept[1] != 2*time.Second {
		t.Errorf("slept %v", f.slept)
	}

	delete(f.env, "CERTEXPIRY_HOOK_URL")
	f.now = f.now.Add(time.Hour)
	f.env["RENEWED_DOMAINS"] = "test.example www.test.example"
	code, stdout, stderr := f.run()
	if code != 0 || stdout != "certbot-hook: delivered 6 lines to URL/write\n" || stderr != "" {
		t.Fatalf("second run: code %d stdout %q stderr %q", code, stdout, stderr)
	}
	if want := first + linesAt(f.now.UnixNano(), ","+f.certFields); len(f.got) != 1 || f.got[0] != want {
		t.Fatalf("server got %q\nwant %q", f.got, want)
	}
}

func TestReport4xxNotRetried(t *testing.T) {
	f := newFixture(t)
	f.codes = []int{404}
	f.body = `{"error":"database not found: \"telegraf\""}`
	code, _, stderr := f.run()
	want := "certbot-hook: URL/write answered 404 Not Found: {\"error\":\"database not found: \\\"telegraf\\\"\"}\n" +
		"certbot-hook: 3 lines stay in " + f.spool + " for the next run (or `telegraf-certexpiry certbot-hook flush`)\n"
	if code != 1 || stderr != want || len(f.got) != 1 || len(f.slept) != 0 {
		t.Fatalf("code %d requests %d slept %v stderr\n%s\nwant\n%s", code, len(f.got), f.slept, stderr, want)
	}
	// The operator fixes the database; flush delivers.
	f.codes = []int{204}
	code, stdout, stderr := f.run("flush")
	if code != 0 || stdout != "certbot-hook: delivered 3 lines to URL/write\n" || stderr != "" || f.spooled() != "" {
		t.Fatalf("flush: code %d stdout %q stderr %q spool %q", code, stdout, stderr, f.spooled())
	}
}

func TestReport5xxRetriedThenAccepted(t *testing.T) {
	f := newFixture(t)
	f.codes = []int{503, 204}
	f.body = "overloaded"
	code, stdout, stderr := f.run()
	want := "certbot-hook: attempt 1 failed, retrying in 1s: URL/write answered 503 Service Unavailable: overloaded\n"
	if code != 0 || stderr != want || stdout != "certbot-hook: delivered 3 lines to URL/write\n" || len(f.got) != 2 {
		t.Fatalf("code %d requests %d stderr\n%s", code, len(f.got), stderr)
	}
}

func TestReportUnreadableLineage(t *testing.T) {
	f := newFixture(t)
	f.env["RENEWED_LINEAGE"] = filepath.Join(f.dir, "live", "missing")
	code, stdout, stderr := f.run()
	p := filepath.Join(f.dir, "live", "missing", "cert.pem")
	want := "certbot-hook: lineage certificate " + p + ": open " + p + ": no such file or directory; reporting the renewal without not_before, not_after and lifetime\n"
	if code != 1 || stderr != want || stdout != "certbot-hook: delivered 3 lines to URL/write\n" {
		t.Fatalf("code %d stderr\n%s\nwant\n%s", code, stderr, want)
	}
	if w := linesAt(f.now.UnixNano(), ""); len(f.got) != 1 || f.got[0] != w {
		t.Fatalf("got %q want %q", f.got, w)
	}
}

func TestReportBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no domains", map[string]string{"RENEWED_DOMAINS": " "}, nil, 2,
			"certbot-hook: RENEWED_DOMAINS is empty or unset: certbot sets it when it runs a deploy hook (to deliver the spool, run `telegraf-certexpiry certbot-hook flush`)\n"},
		{"bad url", map[string]string{"CERTEXPIRY_HOOK_URL": "localhost:8086"}, nil, 2,
			"certbot-hook: environment: CERTEXPIRY_HOOK_URL: \"localhost:8086\": want an http:// or https:// base URL such as http://127.0.0.1:8086\n"},
		{"bad argument", nil, []string{"renew"}, 2, "certbot-hook: unexpected argument \"renew\" (subcommands: flush, install)\n"},
		{"host unencodable", map[string]string{"CERTEXPIRY_HOOK_HOST": "bad\x01host"}, nil, 1,
			"certbot-hook: renewal cannot be written as line protocol: invalid tag value host=\"bad\\x01host\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			for k, v := range tc.env {
				f.env[k] = v
			}
			code, _, stderr := f.run(tc.args...)
			want := strings.ReplaceAll(tc.want, "CONFIG", f.env["CERTEXPIRY_HOOK_CONFIG"])
			if code != tc.code || stderr != want {
				t.Fatalf("code %d stderr\n%q\nwant\n%q", code, stderr, want)
			}
			if len(f.got) != 0 || f.spooled() != "" {
				t.Errorf("bad input reached the server or spool: %q %q", f.got, f.spooled())
			}
		})
	}
}

func TestDryRun(t *testing.T) {
	f := newFixture(t)
	code, stdout, stderr := f.run("--dry-run")
	if code != 0 || stdout != linesAt(f.now.UnixNano(), ","+f.certFields) {
		t.Fatalf("code %d stdout %q", code, stdout)
	}
	if want := "certbot-hook: dry run: would append 3 lines to " + f.spool + "; the spool would then be delivered to URL (api v1)\n"; stderr != want {
		t.Errorf("stderr %q\nwant %q", stderr, want)
	}
	if _, err := os.Stat(filepath.Dir(f.spool)); !os.IsNotExist(err) || len(f.got) != 0 {
		t.Errorf("dry run touched the spool or server: %v %q", err, f.got)
	}
}

func TestSpoolOnly(t *testing.T) {
	f := newFixture(t)
	f.env["CERTEXPIRY_HOOK_CONFIG"] = f.writeConfig("[tags]\nenv = \"prod\"\n")
	code, stdout, stderr := f.run()
	want := "certbot-hook: spooled 3 lines to " + f.spool + "; no url is set, so the certexpiry Telegraf input (certbot_spool) delivers them\n"
	if code != 0 || stdout != want || stderr != "" {
		t.Fatalf("code %d stdout %q stderr %q", code, stdout, stderr)
	}
	if s := f.spooled(); !strings.HasPrefix(s, "certbot_renewal,domain=all,env=prod,host=web\\ 1 renewed_count=2,") {
		t.Errorf("spool %q", s)
	}
	code, _, stderr = f.run("flush")
	if want := "certbot-hook: flush: no url is set in " + f.env["CERTEXPIRY_HOOK_CONFIG"] + " or CERTEXPIRY_HOOK_URL: nowhere to deliver " + f.spool + "\n"; code != 2 || stderr != want {
		t.Errorf("flush without url: %d %q", code, stderr)
	}
}

func TestSpoolUnwritableStillDelivers(t *testing.T) {
	f := newFixture(t)
	blocker := filepath.Join(f.dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f.env["CERTEXPIRY_HOOK_SPOOL"] = filepath.Join(blocker, "spool.lp") // parent is a file
	code, _, stderr := f.run()
	want := "certbot-hook: spool: mkdir " + blocker + ": not a directory\n" +
		"certbot-hook: wrote 3 lines to URL/write without spooling\n"
	if code != 1 || stderr != want || len(f.got) != 1 {
		t.Fatalf("code %d stderr\n%s\nwant\n%s", code, stderr, want)
	}
}

func TestInstallCommand(t *testing.T) {
	f := newFixture(t)
	hooks := filepath.Join(f.dir, "renewal-hooks", "deploy")
	cfg := f.env["CERTEXPIRY_HOOK_CONFIG"]
	code, stdout, stderr := f.run("install", "--dir", hooks, "--config", cfg)
	path := filepath.Join(hooks, "telegraf-certexpiry")
	if want := "certbot-hook: installed " + path + ": runs " + f.exe + " certbot-hook -config " + cfg + " after each renewal\n"; code != 0 || stdout != want || stderr != "" {
		t.Fatalf("code %d stdout %q stderr %q", code, stdout, stderr)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasSuffix(string(b), "exec '"+f.exe+"' certbot-hook -config '"+cfg+"'\n") {
		t.Errorf("script %q", b)
	}
	// A config that would fail at renewal time is refused now.
	bad := filepath.Join(f.dir, "bad.toml")
	os.WriteFile(bad, []byte("urll = \"x\"\n"), 0o600)
	code, _, stderr = f.run("install", "--dir", hooks, "--config", bad, "--name", "other")
	if !strings.HasPrefix(stderr, "certbot-hook: install: the hook would fail: "+bad+": urll: unknown setting") || code != 2 {
		t.Errorf("bad config: %d %q", code, stderr)
	}
}
