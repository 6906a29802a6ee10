package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
)

func fingerprintOf(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

// TestGatherFiles runs the plugin with only the files option over a directory laid out like
// certbot's live/ and a few files that go wrong, and checks every cert_file row.
func TestGatherFiles(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	ca, err := testcerts.NewCA("files CA", now.Add(-100*24*time.Hour), now.Add(20*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(rel string, b []byte, mode os.FileMode) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// a.example: valid, two names, a fullchain whose CA expires before the leaf.
	a, err := ca.Issue(testcerts.Options{CommonName: "a.example", DNSNames: []string{"a.example", "*.a.example"}, NotBefore: now.Add(-10 * 24 * time.Hour), NotAfter: now.Add(35 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	aPath := write("live/a.example/cert.pem", append(a.KeyPEM(), append(a.CertPEM(), ca.CertPEM()...)...), 0o644)
	// b.example: expired.
	b, err := ca.Issue(testcerts.Options{CommonName: "b.example", DNSNames: []string{"b.example"}, NotBefore: now.Add(-90 * 24 * time.Hour), NotAfter: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	bPath := write("live/b.example/cert.pem", b.CertPEM(), 0o644)
	cPath := write("live/c.example/cert.pem", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o644)
	// A directory where a file is expected.
	dPath := filepath.Join(dir, "live", "d.example", "cert.pem")
	if err := os.MkdirAll(dPath, 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nowhere", "*.pem")

	c := New()
	c.Files = []string{filepath.Join(dir, "live", "*", "cert.pem"), aPath, missing}
	c.SetClock(func() time.Time { return now })
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	acc := &metrictest.Accumulator{}
	if err := c.Gather(acc); err != nil {
		t.Fatal(err)
	}
	aFields := map[string]any{
		"status_code": int64(0), "expiry": int64(35 * 24 * 3600), "not_before": a.Cert.NotBefore.Unix(), "not_after": a.Cert.NotAfter.Unix(),
		"lifetime": int64(45 * 24 * 3600), "serial": a.Cert.SerialNumber.Text(16), "fingerprint_sha256": fingerprintOf(a.Cert.Raw),
		"chain_expiry": int64(20 * 24 * 3600),
	}
	bFields := map[string]any{
		"status_code": int64(1), "expiry": int64(-3600), "not_before": b.Cert.NotBefore.Unix(), "not_after": b.Cert.NotAfter.Unix(),
		"lifetime": int64(90*24*3600 - 3600), "serial": b.Cert.SerialNumber.Text(16), "fingerprint_sha256": fingerprintOf(b.Cert.Raw),
		"chain_expiry": int64(-3600),
	}
	want := []metrictest.Row{
		{Measurement: "cert_file", Tags: map[string]string{"path": aPath, "domain": "a.example", "status": "valid"}, Fields: aFields, Time: now},
		{Measurement: "cert_file", Tags: map[string]string{"path": aPath, "domain": "*.a.example", "status": "valid"}, Fields: aFields, Time: now},
		{Measurement: "cert_file", Tags: map[string]string{"path": bPath, "domain": "b.example", "status": "expired"}, Fields: bFields, Time: now},
		{Measurement: "cert_file", Tags: map[string]string{"path": cPath, "status": "not_certificate"}, Fields: map[string]any{"status_code": int64(5), "error": "no PEM CERTIFICATE block"}, Time: now},
		{Measurement: "cert_file", Tags: map[string]string{"path": dPath, "status": "unreadable"}, Fields: map[string]any{"status_code": int64(4), "error": "read " + dPath + ": is a directory"}, Time: now},
		// aPath again (second pattern) is not repeated.
		{Measurement: "cert_file", Tags: map[string]string{"path": missing, "status": "not_found"}, Fields: map[string]any{"status_code": int64(3), "error": "no file matches"}, Time: now},
	}
	got := acc.Measurement("cert_file")
	if !reflect.DeepEqual(got, want) {
		var g, w []string
		for _, r := range got {
			g = append(g, r.String())
		}
		for _, r := range want {
			w = append(w, r.String())
		}
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
	if len(acc.Errors()) != 0 {
		t.Errorf("errors: %v", acc.Errors())
	}
}

func TestInitRejectsBadFiles(t *testing.T) {
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{[]string{"/etc/ssl/*.pem", ""}, "files[1]: empty pattern"},
		{[]string{"certs/*.pem"}, `files[0]: "certs/*.pem" is relative; give an absolute path or pattern`},
		{[]string{"/etc/[ssl/*.pem"}, `files[0]: "/etc/[ssl/*.pem" is not a valid glob pattern: syntax error in pattern`},
	} {
		c := New()
		c.Files = tc.files
		if err := c.Init(); err == nil || err.Error() != tc.want {
			t.Errorf("%q: err = %v, want %q", tc.files, err, tc.want)
		}
	}
	// files alone is a complete configuration.
	c := New()
	c.Files = []string{"/etc/letsencrypt/live/*/cert.pem"}
	if err := c.Init(); err != nil {
		t.Errorf("files only: %v", err)
	}
}
