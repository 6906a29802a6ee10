// Package lineage reads the facts the hook reports from a certbot lineage directory
// (RENEWED_LINEAGE, e.g. /etc/letsencrypt/live/example.com): the validity, serial and
// fingerprint of cert.pem, and the expiry and fingerprint of the certificate it replaced.
//
// certbot keeps every version of a lineage in its archive directory and points
// live/NAME/cert.pem at the newest one: live/NAME/cert.pem → ../../archive/NAME/certN.pem.
// The replaced certificate is certN-1.pem beside it. When cert.pem is not such a symlink
// (a lineage written by hand), N is 1, or certN-1.pem cannot be read, the previous
// certificate is simply unknown: that is never an error, since the renewal itself is fine.
package lineage

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/renewal"
)

// CertFile is the leaf certificate's file name inside a lineage; certbot keeps it as a
// symlink into ../../archive.
const CertFile = "cert.pem"

// Error says which file could not be used and why.
type Error struct {
	Path string
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("lineage certificate %s: %v", e.Path, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// ErrNoCertificate means the file holds no PEM CERTIFICATE block.
var ErrNoCertificate = errors.New("no PEM CERTIFICATE block")

// archiveName matches certbot's archive file names for the leaf: cert1.pem, cert2.pem, ...
var archiveName = regexp.MustCompile(`^cert([1-9][0-9]*)\.pem$`)

// ReadCert reads dir/cert.pem and returns the validity, serial and fingerprint of its first
// certificate (the leaf; certbot writes only the leaf there, the chain goes to chain.pem),
// with Prev set when the replaced certificate is still in certbot's archive.
func ReadCert(dir string) (renewal.Cert, error) {
	if dir == "" {
		return renewal.Cert{}, &Error{Path: CertFile, Err: errors.New("RENEWED_LINEAGE is not set")}
	}
	path := filepath.Join(dir, CertFile)
	c, err := readLeaf(path)
	if err != nil {
		return renewal.Cert{}, err
	}
	out := renewal.Cert{NotBefore: c.NotBefore, NotAfter: c.NotAfter, Serial: c.SerialNumber.Text(16), FingerprintSHA256: fingerprint(c)}
	if prev := previous(path); prev != nil {
		out.Prev = &renewal.PrevCert{NotAfter: prev.NotAfter, FingerprintSHA256: fingerprint(prev)}
	}
	return out, nil
}

// previousPath returns the archive file of the certificate that live cert.pem at path
// replaced (certN-1.pem beside the certN.pem it points to), or "" when there is none to look
// for: cert.pem is not a symlink, or its target is not named certN.pem with N > 1.
func previousPath(path string) string {
	target, err := filepath.EvalSymlinks(path)
	if err != nil || target == filepath.Clean(path) {
		return ""
	}
	m := archiveName.FindStringSubmatch(filepath.Base(target))
	if m == nil {
		return ""
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 2 {
		return ""
	}
	return filepath.Join(filepath.Dir(target), "cert"+strconv.Itoa(n-1)+".pem")
}

// previous reads the replaced certificate, or returns nil when it is unknown.
func previous(path string) *x509.Certificate {
	p := previousPath(path)
	if p == "" {
		return nil
	}
	c, err := readLeaf(p)
	if err != nil {
		return nil
	}
	return c
}

// readLeaf parses the first CERTIFICATE block of the file at path.
func readLeaf(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Path: path, Err: err}
	}
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, &Error{Path: path, Err: ErrNoCertificate}
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, &Error{Path: path, Err: err}
		}
		return c, nil
	}
}

// fingerprint is the lowercase hex SHA-256 of the certificate's DER, as cert_expiry writes it.
func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}
