package lineage

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
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
	if want := leaf.Cert.SerialNumber.Text(16); c.Serial != want {
		t.Errorf("serial %q, want %q", c.Serial, want)
	}
	if want := sha(leaf.Cert.Raw); c.FingerprintSHA256 != want {
		t.Errorf("fingerprint %q, want %q", c.FingerprintSHA256, want)
	}
	// A cert.pem written by hand, not a symlink into the archive: no previous certificate.
	if c.Prev != nil {
		t.Errorf("prev = %+v, want nil", c.Prev)
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

func sha(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

// archive lays out a lineage as certbot does: archive/NAME/certN.pem for each version, and
// live/NAME/cert.pem a relative symlink to the newest one. It returns the live directory and
// the leaves in version order.
func archive(t *testing.T, versions int) (string, []*testcerts.Leaf) {
	t.Helper()
	root := t.TempDir()
	arch := filepath.Join(root, "archive", "a.example")
	live := filepath.Join(root, "live", "a.example")
	for _, d := range []string{arch, live} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	nb := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	ca, err := testcerts.NewCA("test CA", nb.Add(-time.Hour), nb.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var leaves []*testcerts.Leaf
	for i := 1; i <= versions; i++ {
		from := nb.Add(time.Duration(i-1) * 30 * 24 * time.Hour)
		leaf, err := ca.Issue(testcerts.Options{CommonName: "a.example", DNSNames: []string{"a.example"}, NotBefore: from, NotAfter: from.Add(90 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, leaf)
		if err := os.WriteFile(filepath.Join(arch, "cert"+strconv.Itoa(i)+".pem"), leaf.CertPEM(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join("..", "..", "archive", "a.example", "cert"+strconv.Itoa(versions)+".pem")
	if err := os.Symlink(target, filepath.Join(live, "cert.pem")); err != nil {
		t.Fatal(err)
	}
	return live, leaves
}

// TestReadCertPrevious: after the third renewal, cert.pem points at cert3.pem and the replaced
// certificate is cert2.pem, not cert1.pem.
func TestReadCertPrevious(t *testing.T) {
	live, leaves := archive(t, 3)
	c, err := ReadCert(live)
	if err != nil {
		t.Fatal(err)
	}
	if c.FingerprintSHA256 != sha(leaves[2].Cert.Raw) || !c.NotAfter.Equal(leaves[2].Cert.NotAfter) {
		t.Errorf("current = %s %v, want cert3.pem", c.FingerprintSHA256, c.NotAfter)
	}
	if c.Prev == nil {
		t.Fatal("prev = nil, want cert2.pem")
	}
	if c.Prev.FingerprintSHA256 != sha(leaves[1].Cert.Raw) || !c.Prev.NotAfter.Equal(leaves[1].Cert.NotAfter) {
		t.Errorf("prev = %+v, want cert2.pem (%s, %v)", c.Prev, sha(leaves[1].Cert.Raw), leaves[1].Cert.NotAfter)
	}
}

// TestReadCertNoPrevious: the first issuance has no predecessor, and a predecessor that is
// gone or damaged leaves Prev unknown without failing the renewal.
func TestReadCertNoPrevious(t *testing.T) {
	t.Run("first version", func(t *testing.T) {
		live, _ := archive(t, 1)
		c, err := ReadCert(live)
		if err != nil || c.Prev != nil || c.FingerprintSHA256 == "" {
			t.Fatalf("err %v prev %+v fp %q", err, c.Prev, c.FingerprintSHA256)
		}
	})
	t.Run("predecessor deleted", func(t *testing.T) {
		live, _ := archive(t, 2)
		if err := os.Remove(filepath.Join(live, "..", "..", "archive", "a.example", "cert1.pem")); err != nil {
			t.Fatal(err)
		}
		c, err := ReadCert(live)
		if err != nil || c.Prev != nil {
			t.Fatalf("err %v prev %+v", err, c.Prev)
		}
	})
	t.Run("predecessor not a certificate", func(t *testing.T) {
		live, _ := archive(t, 2)
		if err := os.WriteFile(filepath.Join(live, "..", "..", "archive", "a.example", "cert1.pem"), []byte("garbage\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := ReadCert(live)
		if err != nil || c.Prev != nil {
			t.Fatalf("err %v prev %+v", err, c.Prev)
		}
	})
	t.Run("symlink to a file not named certN.pem", func(t *testing.T) {
		live, _ := archive(t, 2)
		p := filepath.Join(live, "cert.pem")
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join("..", "..", "archive", "a.example", "cert2.pem"), filepath.Join(live, "other.pem")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("other.pem", p); err != nil {
			t.Fatal(err)
		}
		// The chain of links ends at cert2.pem: that is what counts.
		c, err := ReadCert(live)
		if err != nil || c.Prev == nil {
			t.Fatalf("err %v prev %+v", err, c.Prev)
		}
	})
}

func TestPreviousPath(t *testing.T) {
	live, _ := archive(t, 12)
	arch, err := filepath.EvalSymlinks(filepath.Join(live, "..", "..", "archive", "a.example"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := previousPath(filepath.Join(live, "cert.pem")), filepath.Join(arch, "cert11.pem"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, name := range []string{"cert1.pem", "cert0.pem", "cert01.pem", "certX.pem", "fullchain2.pem"} {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(filepath.Join(filepath.Dir(p), name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(filepath.Dir(p), "cert.pem")
		if err := os.Symlink(name, link); err != nil {
			t.Fatal(err)
		}
		if got := previousPath(link); got != "" {
			t.Errorf("%s: got %q, want none", name, got)
		}
	}
}
