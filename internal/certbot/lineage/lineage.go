// Package lineage reads the facts the hook reports from a certbot lineage directory
// (RENEWED_LINEAGE, e.g. /etc/letsencrypt/live/example.com): the validity of cert.pem.
package lineage

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

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

// ReadCert reads dir/cert.pem and returns the validity of its first certificate (the leaf;
// certbot writes only the leaf there, the chain goes to chain.pem).
func ReadCert(dir string) (renewal.Cert, error) {
	if dir == "" {
		return renewal.Cert{}, &Error{Path: CertFile, Err: errors.New("RENEWED_LINEAGE is not set")}
	}
	path := filepath.Join(dir, CertFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return renewal.Cert{}, &Error{Path: path, Err: err}
	}
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return renewal.Cert{}, &Error{Path: path, Err: ErrNoCertificate}
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return renewal.Cert{}, &Error{Path: path, Err: err}
		}
		return renewal.Cert{NotBefore: c.NotBefore, NotAfter: c.NotAfter}, nil
	}
}
