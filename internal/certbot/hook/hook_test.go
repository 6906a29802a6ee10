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
	now     time.Time // the injected clock
	env     map[string]string
	slept   []time.Duration
	srv     *httptest.Server
	mu      sync.Mutex
	codes   []int // answers in turn; the last repeats; empty: 204
	body    string
	loc     string   // Location header of a 3xx answer
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
		if code/100 == 3 {
			w.Header().Set("Location", f.loc)
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

// report runs Report, flush runs Flush, each with the fixture's clock and environment; sleeps
// are recorded, not slept.
func (f *fixture) report(dryRun bool) (code int, stdout, stderr string) {
	return f.call(func(e Env) int { return e.Report(context.Background(), "", dryRun) })
}

func (f *fixture) flush() (code int, stdout, stderr string) {
	return f.call(func(e Env) int { return e.Flush(context.Background(), "") })
}

func (f *fixture) call(fn func(Env) int) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = fn(Env{
		Getenv:   func(k string) string { return f.env[k] },
		Stdout:   &out,
		Stderr:   &errb,
		Client:   f.srv.Client(),
		Now:      func() time.Time { return f.now },
		Sleep:    func(ctx context.Context, d time.Duration) error { f.slept = append(f.slept, d); return nil },
		Hostname: func() (string, error) { return "", errors.New("no hostname in tests") },

		DefaultConfig: filepath.Join(f.dir, "no-default.toml"),
	})
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
	code, stdout, stderr := f.report(false)
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
	code, _, stderr := f.report(false)
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
	code, stdout, stderr := f.report(false)
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
	code, _, stderr := f.report(false)
	want := "certbot-hook: URL/write answered 404 Not Found: {\"error\":\"database not found: \\\"telegraf\\\"\"}\n" +
		"certbot-hook: 3 lines stay in " + f.spool + " for the next run (or `telegraf-certexpiry certbot-hook flush`)\n"
	if code != 1 || stderr != want || len(f.got) != 1 || len(f.slept) != 0 {
		t.Fatalf("code %d requests %d slept %v stderr\n%s\nwant\n%s", code, len(f.got), f.slept, stderr, want)
	}
	// The operator fixes the database; flush delivers.
	f.codes = []int{204}
	code, stdout, stderr := f.flush()
	if code != 0 || stdout != "certbot-hook: delivered 3 lines to URL/write\n" || stderr != "" || f.spooled() != "" {
		t.Fatalf("flush: code %d stdout %q stderr %q spool %q", code, stdout, stderr, f.spooled())
	}
}

// TestReportRedirectKeepsRenewal: a redirect is a failure; the renewal stays spooled.
func TestReportRedirectKeepsRenewal(t *testing.T) {
	for _, status := range []int{301, 302, 307, 308} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			f := newFixture(t)
			f.codes = []int{status, 200}
			f.loc = "https://influx.example/write?db=telegraf"
			code, stdout, stderr := f.report(false)
			want := "certbot-hook: URL/write answered " + strconv.Itoa(status) + " " + http.StatusText(status) + ": redirect to https://influx.example/write (query not shown); a write is never sent on to another address: set url to the address the server answers on\n" +
				"certbot-hook: 3 lines stay in " + f.spool + " for the next run (or `telegraf-certexpiry certbot-hook flush`)\n"
			if code != 1 || stdout != "" || stderr != want || len(f.got) != 1 || len(f.slept) != 0 {
				t.Fatalf("code %d requests %d stdout %q stderr\n%s\nwant\n%s", code, len(f.got), stdout, stderr, want)
			}
			if s := f.spooled(); s != linesAt(f.now.UnixNano(), ","+f.certFields) {
				t.Errorf("spool %q", s)
			}
		})
	}
}

func TestReport5xxRetriedThenAccepted(t *testing.T) {
	f := newFixture(t)
	f.codes = []int{503, 204}
	f.body = "overloaded"
	code, stdout, stderr := f.report(false)
	want := "certbot-hook: attempt 1 failed, retrying in 1s: URL/write answered 503 Service Unavailable: overloaded\n"
	if code != 0 || stderr != want || stdout != "certbot-hook: delivered 3 lines to URL/write\n" || len(f.got) != 2 {
		t.Fatalf("code %d requests %d stderr\n%s", code, len(f.got), stderr)
	}
}

func TestReportUnreadableLineage(t *testing.T) {
	f := newFixture(t)
	f.env["RENEWED_LINEAGE"] = filepath.Join(f.dir, "live", "missing")
	code, stdout, stderr := f.report(false)
	p := filepath.Join(f.dir, "live", "missing", "cert.pem")
	want := "certbot-hook: lineage certificate " + p + ": open " + p + ": no such file or directory; reporting the renewal without its certificate fields (validity, lifetime, serial, fingerprints)\n"
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
		code int
		want string
	}{
		{"no domains", map[string]string{"RENEWED_DOMAINS": " "}, 2,
			"certbot-hook: RENEWED_DOMAINS is empty or unset: certbot sets it when it runs a deploy hook (to deliver the spool, run `telegraf-certexpiry certbot-hook flush`)\n"},
		{"host unencodable", map[string]string{"CERTEXPIRY_HOOK_HOST": "bad\x01host"}, 1,
			"certbot-hook: renewal cannot be written as line protocol: invalid tag value host=\"bad\\x01host\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			for k, v := range tc.env {
				f.env[k] = v
			}
			code, _, stderr := f.report(false)
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

// TestSettingsProblemsSpoolFirst: a problem with the delivery settings does not lose the
// renewal: it is spooled first, then the hook refuses (exit 2), and `flush` delivers it once
// the settings are fixed.
func TestSettingsProblemsSpoolFirst(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string // "" keeps the fixture's
		mode   os.FileMode
		env    map[string]string
		want   string // CONFIG is the settings file
	}{
		{"token file missing", "api = \"v2\"\nbucket = \"b\"\ntoken_file = \"/nonexistent/token\"\nurl = \"URL\"\n", 0o600, nil,
			"CONFIG: token_file: open /nonexistent/token: no such file or directory"},
		{"token in a file others can read", "api = \"v2\"\nbucket = \"b\"\ntoken = \"t\"\nurl = \"URL\"\n", 0o644, nil,
			"CONFIG: config file holding a secret is readable by group or others: it holds token and has mode 0644; run `chmod 600 CONFIG` (or move the secret to token_file)"},
		{"malformed url in the environment", "", 0o600, map[string]string{"CERTEXPIRY_HOOK_URL": "localhost:8086"},
			`environment: CERTEXPIRY_HOOK_URL: "localhost:8086": want an http:// or https:// base URL such as http://127.0.0.1:8086`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			good := f.env["CERTEXPIRY_HOOK_CONFIG"]
			if tc.config != "" {
				p := filepath.Join(f.dir, "bad.toml")
				if err := os.WriteFile(p, []byte(strings.ReplaceAll(tc.config, "URL", f.srv.URL)), tc.mode); err != nil {
					t.Fatal(err)
				}
				os.Chmod(p, tc.mode)
				f.env["CERTEXPIRY_HOOK_CONFIG"] = p
			}
			for k, v := range tc.env {
				f.env[k] = v
			}
			code, stdout, stderr := f.report(false)
			want := "certbot-hook: " + strings.ReplaceAll(tc.want, "CONFIG", f.env["CERTEXPIRY_HOOK_CONFIG"]) + "\n" +
				"certbot-hook: spooled 3 lines to " + f.spool + ", but delivered nothing: fix the settings above, then run `telegraf-certexpiry certbot-hook flush`\n"
			if code != 2 || stdout != "" || stderr != want {
				t.Fatalf("code %d stdout %q stderr\n%s\nwant\n%s", code, stdout, stderr, want)
			}
			spooled := linesAt(f.now.UnixNano(), ","+f.certFields)
			if len(f.got) != 0 || f.spooled() != spooled {
				t.Fatalf("server got %q, spool %q", f.got, f.spooled())
			}
			// Settings fixed: flush delivers the renewal.
			f.env["CERTEXPIRY_HOOK_CONFIG"] = good
			for k := range tc.env {
				delete(f.env, k)
			}
			code, stdout, stderr = f.flush()
			if code != 0 || stdout != "certbot-hook: delivered 3 lines to URL/write\n" || stderr != "" || f.spooled() != "" {
				t.Fatalf("flush: code %d stdout %q stderr %q spool %q", code, stdout, stderr, f.spooled())
			}
			if len(f.got) != 1 || f.got[0] != spooled {
				t.Errorf("server got %q", f.got)
			}
		})
	}
}

// TestUnusableSettingsPrintRenewal: when the settings file cannot be decoded, where to spool
// is in doubt: the hook spools nothing, prints the points on stderr and exits 2.
func TestUnusableSettingsPrintRenewal(t *testing.T) {
	f := newFixture(t)
	f.env["CERTEXPIRY_HOOK_CONFIG"] = f.writeConfig("url = \n")
	code, stdout, stderr := f.report(false)
	want := "certbot-hook: " + f.env["CERTEXPIRY_HOOK_CONFIG"] + ": toml: line 1 (last key \"url\"): expected value but found '\\n' instead\n" +
		"certbot-hook: the renewal was NOT recorded: the settings do not say for certain where to spool it; the points below use the default measurement and no extra tags. Its 3 points follow, to be written by hand:\n" +
		linesAt(f.now.UnixNano(), ","+f.certFields)
	if code != 2 || stdout != "" || stderr != want {
		t.Fatalf("code %d stdout %q stderr\n%s\nwant\n%s", code, stdout, stderr, want)
	}
	if len(f.got) != 0 || f.spooled() != "" {
		t.Errorf("server got %q, spool %q", f.got, f.spooled())
	}
	code, stdout, stderr = f.report(true)
	want = "certbot-hook: " + f.env["CERTEXPIRY_HOOK_CONFIG"] + ": toml: line 1 (last key \"url\"): expected value but found '\\n' instead\n" +
		"certbot-hook: dry run: with these settings a renewal would be spooled nowhere; its points would be printed on stderr\n"
	if code != 2 || stdout != f.renewalLines() || stderr != want {
		t.Errorf("dry run: code %d stdout %q stderr\n%s\nwant\n%s", code, stdout, stderr, want)
	}
}

// TestTornLineInSpool: a line cut short by a crash mid-append and a line that is not a point
// move to .rejected; the renewals before and after them are delivered.
func TestTornLineInSpool(t *testing.T) {
	f := newFixture(t)
	old := linesAt(f.now.Add(-time.Hour).UnixNano(), "")
	if err := os.MkdirAll(filepath.Dir(f.spool), 0o770); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.spool, []byte(old+"certbot_renewal,domain=x.example renewed_count=1 garbage\ncertbot_renewal,domain=all,host=web\\ 1 renewed_c"), 0o660); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := f.report(false)
	want := "certbot-hook: the spool ended in a line cut short by an earlier crash; moved it to " + f.spool + ".rejected: \"certbot_renewal,domain=all,host=web\\\\ 1 renewed_c\"\n" +
		"certbot-hook: 1 lines are not valid points, moved to " + f.spool + ".rejected:\n" +
		"certbot-hook: line 4 \"certbot_renewal,domain=x.example renewed_count=1 garbage\": column 50: invalid timestamp (\"garbage\")\n"
	if code != 1 || stdout != "certbot-hook: delivered 6 lines to URL/write\n" || stderr != want {
		t.Fatalf("code %d stdout %q stderr\n%s\nwant\n%s", code, stdout, stderr, want)
	}
	if w := old + linesAt(f.now.UnixNano(), ","+f.certFields); len(f.got) != 1 || f.got[0] != w {
		t.Fatalf("server got %q\nwant %q", f.got, w)
	}
	b, _ := os.ReadFile(f.spool + ".rejected")
	if want := "certbot_renewal,domain=all,host=web\\ 1 renewed_c\ncertbot_renewal,domain=x.example renewed_count=1 garbage\n"; string(b) != want || f.spooled() != "" {
		t.Errorf("rejected %q, spool %q", b, f.spooled())
	}
}

// TestNeitherSpoolNorServer: the spool cannot be written and the server cannot be reached (or
// no url is set): the points go to stderr, which certbot keeps in its log, and the exit is 1.
func TestNeitherSpoolNorServer(t *testing.T) {
	for _, url := range []string{"down", "none"} {
		t.Run(url, func(t *testing.T) {
			f := newFixture(t)
			blocker := filepath.Join(f.dir, "file")
			if err := os.WriteFile(blocker, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			f.env["CERTEXPIRY_HOOK_SPOOL"] = filepath.Join(blocker, "spool.lp") // parent is a file
			f.env["CERTEXPIRY_HOOK_RETRIES"] = "0"
			why := "neither the spool nor URL took it"
			want := "certbot-hook: spool: mkdir " + blocker + ": not a directory\n"
			if url == "down" {
				f.codes = []int{503}
				want += "certbot-hook: URL/write answered 503 Service Unavailable\n"
			} else {
				f.env["CERTEXPIRY_HOOK_CONFIG"] = f.writeConfig("")
				why = "the spool cannot take it and no url is set"
			}
			code, stdout, stderr := f.report(false)
			want += "certbot-hook: the renewal was NOT recorded: " + why + ". Its 3 points follow, to be written by hand:\n" +
				linesAt(f.now.UnixNano(), ","+f.certFields)
			if code != 1 || stdout != "" || stderr != want {
				t.Fatalf("code %d stdout %q stderr\n%s\nwant\n%s", code, stdout, stderr, want)
			}
		})
	}
}

// renewalLines is the fixture's renewal as the hook encodes it with sound settings (host
// "web 1", default measurement, no extra tags, the lineage's certificate fields): a dry run's
// stdout with only the renewal's environment.
func (f *fixture) renewalLines() string {
	f.t.Helper()
	empty := filepath.Join(f.dir, "empty.toml")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		f.t.Fatal(err)
	}
	saved := f.env
	defer func() { f.env = saved }()
	f.env = map[string]string{"RENEWED_DOMAINS": saved["RENEWED_DOMAINS"], "RENEWED_LINEAGE": saved["RENEWED_LINEAGE"],
		"CERTEXPIRY_HOOK_HOST": "web 1", "CERTEXPIRY_HOOK_CONFIG": empty}
	code, stdout, stderr := f.report(true)
	if code != 0 || strings.Count(stdout, "\n") != 3 {
		f.t.Fatalf("dry run for the expected lines: code %d stdout %q stderr %q", code, stdout, stderr)
	}
	return stdout
}

// TestBadSettingsAndNoSpool: the delivery settings are unusable and the spool cannot be
// written either: the points go to stderr and the exit is 2.
func TestBadSettingsAndNoSpool(t *testing.T) {
	f := newFixture(t)
	blocker := filepath.Join(f.dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f.env["CERTEXPIRY_HOOK_SPOOL"] = filepath.Join(blocker, "spool.lp")
	f.env["CERTEXPIRY_HOOK_URL"] = "localhost:8086"
	code, stdout, stderr := f.report(false)
	want := "certbot-hook: environment: CERTEXPIRY_HOOK_URL: \"localhost:8086\": want an http:// or https:// base URL such as http://127.0.0.1:8086\n" +
		"certbot-hook: spool: mkdir " + blocker + ": not a directory\n" +
		"certbot-hook: the renewal was NOT recorded: the spool cannot take it and the delivery settings are unusable. Its 3 points follow, to be written by hand:\n" +
		f.renewalLines()
	if code != 2 || stdout != "" || stderr != want || len(f.got) != 0 {
		t.Fatalf("code %d stdout %q requests %d stderr\n%s\nwant\n%s", code, stdout, len(f.got), stderr, want)
	}
}

// TestSpoolSymlinkRefused: a symbolic link planted as the spool (the directory is writable by
// group telegraf, the hook runs as root) is neither written nor read; the renewal goes
// straight to the server and the hook fails with a message naming the link.
func TestSpoolSymlinkRefused(t *testing.T) {
	f := newFixture(t)
	victim := filepath.Join(f.dir, "victim")
	if err := os.WriteFile(victim, []byte("root-only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(f.spool), 0o770); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, f.spool); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := f.report(false)
	want := "certbot-hook: spool: refusing " + f.spool + ": it is a symbolic link; the spool directory may hold only regular files the spool made itself (the hook runs as root): remove it\n" +
		"certbot-hook: wrote 3 lines to URL/write without spooling\n"
	if code != 1 || stderr != want {
		t.Fatalf("code %d stderr\n%s\nwant\n%s", code, stderr, want)
	}
	if b, _ := os.ReadFile(victim); string(b) != "root-only\n" {
		t.Errorf("victim changed: %q", b)
	}
	if w := linesAt(f.now.UnixNano(), ","+f.certFields); len(f.got) != 1 || f.got[0] != w {
		t.Errorf("server got %q", f.got)
	}
	code, _, stderr = f.flush()
	if code != 1 || !strings.HasPrefix(stderr, "certbot-hook: spool: refusing "+f.spool+": it is a symbolic link;") || len(f.got) != 1 {
		t.Errorf("flush: code %d stderr %q, %d requests", code, stderr, len(f.got))
	}
}

// TestDryRunBadDeliverySettings: a dry run reports the settings problem and what the real
// run would do, and touches nothing.
func TestDryRunBadDeliverySettings(t *testing.T) {
	f := newFixture(t)
	f.env["CERTEXPIRY_HOOK_URL"] = "localhost:8086"
	code, stdout, stderr := f.report(true)
	want := "certbot-hook: environment: CERTEXPIRY_HOOK_URL: \"localhost:8086\": want an http:// or https:// base URL such as http://127.0.0.1:8086\n" +
		"certbot-hook: dry run: would append 3 lines to " + f.spool + ", then refuse to deliver until the settings are fixed\n"
	if code != 2 || stdout != f.renewalLines() || stderr != want {
		t.Fatalf("code %d stdout %q stderr\n%s\nwant\n%s", code, stdout, stderr, want)
	}
	if _, err := os.Stat(filepath.Dir(f.spool)); !os.IsNotExist(err) || len(f.got) != 0 {
		t.Errorf("dry run touched the spool or server: %v %q", err, f.got)
	}
}

func TestDryRun(t *testing.T) {
	f := newFixture(t)
	code, stdout, stderr := f.report(true)
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
	code, stdout, stderr := f.report(false)
	want := "certbot-hook: spooled 3 lines to " + f.spool + "; no url is set, so the certexpiry Telegraf input (certbot_spool) delivers them\n"
	if code != 0 || stdout != want || stderr != "" {
		t.Fatalf("code %d stdout %q stderr %q", code, stdout, stderr)
	}
	if s := f.spooled(); !strings.HasPrefix(s, "certbot_renewal,domain=all,env=prod,host=web\\ 1 renewed_count=2,") {
		t.Errorf("spool %q", s)
	}
	code, _, stderr = f.flush()
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
	code, _, stderr := f.report(false)
	want := "certbot-hook: spool: mkdir " + blocker + ": not a directory\n" +
		"certbot-hook: wrote 3 lines to URL/write without spooling\n"
	if code != 1 || stderr != want || len(f.got) != 1 {
		t.Fatalf("code %d stderr\n%s\nwant\n%s", code, stderr, want)
	}
}
