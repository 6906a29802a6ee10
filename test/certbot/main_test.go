// Package certbot tests the certbot-hook command as users run it: the real
// telegraf-certexpiry binary against real InfluxDB 1.6.7 and 1.8.3, a real Telegraf with
// influxdb_listener and influxdb_v2_listener, and real certbot renewing from a local Pebble
// ACME server. Every test here is an integration test (CERTEXPIRY_INTEGRATION=1, `make test`).
package certbot

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// hookBin is the binary under test, built from the working tree once in TestMain.
var hookBin string

func TestMain(m *testing.M) {
	if !testenv.Integration() {
		os.Exit(m.Run()) // every test skips
	}
	dir, err := os.MkdirTemp("", "certbot-hook-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hookBin = filepath.Join(dir, "telegraf-certexpiry")
	cmd := exec.Command("go", "build", "-o", hookBin, "../../cmd/telegraf-certexpiry")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the hook.
type result struct {
	code           int
	stdout, stderr string
	start, end     time.Time // around the run: every point's timestamp falls in between
}

// runHook runs `telegraf-certexpiry certbot-hook args...` with exactly env (plus PATH), as
// certbot would: nothing from the test's own environment leaks in.
func runHook(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	cmd := exec.Command(hookBin, append([]string{"certbot-hook"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	r := result{start: time.Now()}
	err := cmd.Run()
	r.end = time.Now()
	r.stdout, r.stderr = out.String(), errb.String()
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running the hook: %v", err)
	}
	return r
}

// cert is a certificate written as a certbot lineage.
type cert struct {
	lineage             string
	notBefore, notAfter time.Time
	serial, fingerprint string // as the hook writes them; empty: not expected
	// The certificate this one replaced in certbot's archive; empty: not expected.
	prevFingerprint string
	prevNotAfter    time.Time
}

// certOf is the expectation for the certificate c (no lineage directory).
func certOf(c *x509.Certificate) cert {
	fp := sha256.Sum256(c.Raw)
	return cert{notBefore: c.NotBefore, notAfter: c.NotAfter, serial: c.SerialNumber.Text(16), fingerprint: hex.EncodeToString(fp[:])}
}

// writeLineage writes dir/live/NAME/cert.pem for a certificate valid from nb to na.
func writeLineage(t *testing.T, dir string, nb, na time.Time, names ...string) cert {
	t.Helper()
	ca, err := testcerts.NewCA("certbot test CA", nb.Add(-time.Hour), na.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(testcerts.Options{CommonName: names[0], DNSNames: names, NotBefore: nb, NotAfter: na})
	if err != nil {
		t.Fatal(err)
	}
	lineage := filepath.Join(dir, "live", names[0])
	if err := os.MkdirAll(lineage, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lineage, "cert.pem"), leaf.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	c := certOf(leaf.Cert)
	c.lineage = lineage
	return c
}

// writeConfig writes a mode-600 settings file.
func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "certbot-hook.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// expected builds the points one renewal must produce, in the normalized form of normalize.
func expected(host string, c cert, ts time.Time, domains ...string) []string {
	return expectedTags("host="+host, c, ts, domains...)
}

// expectedTags is expected with the tags after domain given in full ("env=prod host=h",
// sorted; every key must sort after "domain").
func expectedTags(tags string, c cert, ts time.Time, domains ...string) []string {
	fields := []string{fmt.Sprintf("lifetime=%di", int64(c.notAfter.Sub(c.notBefore)/time.Second)), fmt.Sprintf("not_after=%di", c.notAfter.Unix()), fmt.Sprintf("not_before=%di", c.notBefore.Unix())}
	if c.fingerprint != "" {
		fields = append(fields, fmt.Sprintf("fingerprint_sha256=%q", c.fingerprint), fmt.Sprintf("serial=%q", c.serial))
	}
	if c.prevFingerprint != "" {
		fields = append(fields, fmt.Sprintf("prev_fingerprint_sha256=%q", c.prevFingerprint), fmt.Sprintf("prev_not_after=%di", c.prevNotAfter.Unix()))
	}
	point := func(domain string, count int) string {
		f := append([]string{fmt.Sprintf("renewed_count=%d", count)}, fields...)
		sort.Strings(f)
		return fmt.Sprintf("certbot_renewal domain=%s %s | %s | %d", domain, tags, strings.Join(f, " "), ts.UnixNano())
	}
	out := []string{point("all", len(domains))}
	for _, d := range domains {
		out = append(out, point(d, 1))
	}
	sort.Strings(out)
	return out
}

// normalize decodes line protocol into "measurement k=v... | field=value... | ns" strings
// (tags and fields sorted, integers with an i suffix, floats plain), sorted, so that outputs
// that order fields differently compare equal and nothing else does.
func normalize(t *testing.T, b []byte) []string {
	t.Helper()
	rows, err := metrictest.ParseLineProtocol(b)
	if err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
	var out []string
	for _, r := range rows {
		var tags, fields []string
		for k, v := range r.Tags {
			tags = append(tags, k+"="+v)
		}
		for k, v := range r.Fields {
			fields = append(fields, k+"="+fieldString(v))
		}
		sort.Strings(tags)
		sort.Strings(fields)
		out = append(out, fmt.Sprintf("%s %s | %s | %d", r.Measurement, strings.Join(tags, " "), strings.Join(fields, " "), r.Time.UnixNano()))
	}
	sort.Strings(out)
	return out
}

// fieldString writes a field value as line protocol does (1i, "s", true), floats plain.
func fieldString(v any) string {
	if f, ok := v.(float64); ok {
		return fmt.Sprint(f)
	}
	lv, ok := lineprotocol.NewValue(v)
	if !ok {
		return fmt.Sprint(v)
	}
	return lv.String()
}

// timestamps returns the distinct timestamps of normalized points, ascending.
func timestamps(points []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range points {
		ts := p[strings.LastIndex(p, "| ")+2:]
		if !seen[ts] {
			seen[ts] = true
			out = append(out, ts)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) < len(out[j]) || len(out[i]) == len(out[j]) && out[i] < out[j] })
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
