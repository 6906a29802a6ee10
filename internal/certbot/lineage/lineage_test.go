package lineage

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
)

func TestReadCert(t *testing.T) {
	nb := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	na := nb.Add(45 * 24 * time.Hour)
	ca, err := testcerts.NewCA("test CA", nb.Add(-time.Hour), na.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(testcerts.Options{CommonName: "a.example", DNSNames: []string{"a.example"}, NotBefore: nb, NotAfter: na})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// A key block first: the leaf is the first CERTIFICATE block, whatever precedes it.
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), append(leaf.KeyPEM(), leaf.CertPEM()...), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ReadCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !c.NotBefore.Equal(nb) || !c.NotAfter.Equal(na) || c.Lifetime() != 45*24*3600 {
		t.Errorf("got %v – %v lifetime %d", c.NotBefore, c.NotAfter, c.Lifetime())
	}
}

func TestReadCertErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadCert(dir)
	want := "lineage certificate " + filepath.Join(dir, "cert.pem") + ": open " + filepath.Join(dir, "cert.pem") + ": no such file or directory"
	if err == nil || err.Error() != want || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: err = %v, want %q", err, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("not pem\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadCert(dir)
	if want := "lineage certificate " + filepath.Join(dir, "cert.pem") + ": no PEM CERTIFICATE block"; err == nil || err.Error() != want {
		t.Errorf("not pem: err = %v, want %q", err, want)
	}
	if _, err := ReadCert(""); err == nil || err.Error() != "lineage certificate cert.pem: RENEWED_LINEAGE is not set" {
		t.Errorf("unset: err = %v", err)
	}
}
