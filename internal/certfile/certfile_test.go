package certfile

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
)

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func issue(t *testing.T, o testcerts.Options) (*testcerts.CA, *testcerts.Leaf) {
	t.Helper()
	ca, err := testcerts.NewCA("certfile CA", now.Add(-365*24*time.Hour), now.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if o.NotBefore.IsZero() {
		o.NotBefore, o.NotAfter = now.Add(-time.Hour), now.Add(time.Hour)
	}
	leaf, err := ca.Issue(o)
	if err != nil {
		t.Fatal(err)
	}
	return ca, leaf
}

func write(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadStatuses(t *testing.T) {
	_, future := issue(t, testcerts.Options{DNSNames: []string{"f.example"}, NotBefore: now.Add(time.Hour), NotAfter: now.Add(48 * time.Hour)})
	r := Read(write(t, future.CertPEM()), now)
	if r.Status != StatusNotYetValid || r.Status.String() != "not_yet_valid" || r.Err != nil {
		t.Errorf("future: %v %v", r.Status, r.Err)
	}
	r = Read(write(t, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")), now)
	if r.Status != StatusNotCertificate || r.Err == nil || r.Leaf != nil {
		t.Errorf("damaged: %v %v", r.Status, r.Err)
	}
	r = Read(write(t, nil), now)
	if r.Status != StatusNotCertificate || !errors.Is(r.Err, ErrNoCertificate) {
		t.Errorf("empty: %v %v", r.Status, r.Err)
	}
	r = Read(filepath.Join(t.TempDir(), "gone.pem"), now)
	if r.Status != StatusNotFound || !errors.Is(r.Err, os.ErrNotExist) {
		t.Errorf("gone: %v %v", r.Status, r.Err)
	}
	if Status(9).String() != "status(9)" {
		t.Errorf("unknown status: %s", Status(9))
	}
}

// TestReadChain: a damaged certificate after the leaf is skipped; the chain's earliest expiry
// bounds ChainNotAfter.
func TestReadChain(t *testing.T) {
	ca, leaf := issue(t, testcerts.Options{DNSNames: []string{"a.example"}})
	damaged := []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	inter, err := ca.Intermediate("short intermediate", now.Add(-time.Hour), now.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	b := append(append(leaf.CertPEM(), damaged...), inter.CertPEM()...)
	r := Read(write(t, b), now)
	if r.Status != StatusValid || len(r.Chain) != 1 || !r.ChainNotAfter().Equal(inter.Cert.NotAfter) {
		t.Fatalf("status %v chain %d chain end %v", r.Status, len(r.Chain), r.ChainNotAfter())
	}
}

func TestNames(t *testing.T) {
	_, dns := issue(t, testcerts.Options{CommonName: "cn.example", DNSNames: []string{"a.example", "*.b.example"}})
	_, ip := issue(t, testcerts.Options{CommonName: "cn.example", IPs: []net.IP{net.IPv4(127, 0, 0, 7)}})
	_, cn := issue(t, testcerts.Options{CommonName: "cn.example"})
	_, none := issue(t, testcerts.Options{})
	for _, tc := range []struct {
		leaf *testcerts.Leaf
		want []string
	}{
		{dns, []string{"a.example", "*.b.example"}},
		{ip, []string{"127.0.0.7"}},
		{cn, []string{"cn.example"}},
		{none, nil},
	} {
		if got := Names(tc.leaf.Cert); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// TestReadAll: patterns expand in path order, overlapping patterns read a file once, and a
// pattern matching nothing is reported as itself.
func TestReadAll(t *testing.T) {
	_, leaf := issue(t, testcerts.Options{DNSNames: []string{"a.example"}})
	dir := t.TempDir()
	for _, n := range []string{"b.pem", "a.pem"} {
		if err := os.WriteFile(filepath.Join(dir, n), leaf.CertPEM(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	none := filepath.Join(dir, "*.crt")
	rs := ReadAll([]string{filepath.Join(dir, "*.pem"), filepath.Join(dir, "a.pem"), none}, now)
	var got []string
	for _, r := range rs {
		got = append(got, filepath.Base(r.Path)+" "+r.Status.String())
	}
	if want := []string{"a.pem valid", "b.pem valid", "*.crt not_found"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(rs[2].Err, ErrNoMatch) || rs[2].Path != none {
		t.Errorf("no match: %+v", rs[2])
	}
}

func TestValidatePattern(t *testing.T) {
	for p, want := range map[string]string{
		"":                 "empty pattern",
		"live/*/cert.pem":  `"live/*/cert.pem" is relative; give an absolute path or pattern`,
		"/etc/[x/cert.pem": `"/etc/[x/cert.pem" is not a valid glob pattern: syntax error in pattern`,
		"/etc/ssl/*.pem":   "",
	} {
		got := ""
		if err := ValidatePattern(p); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("%q: error %q, want %q", p, got, want)
		}
	}
}
