// Package certfile reads certificates from files named by glob patterns, for ACME clients that
// leave their certificates on disk (certbot, acme.sh, Caddy, lego, or by hand). Each matched
// file gives one Result whatever happened to it: a file that cannot be read or holds no
// certificate is a Result with a status saying so, never a gap and never an error for the
// whole read.
//
// A file may hold a bundle (fullchain.pem): its first certificate is the leaf, the ones after
// it the chain. Other PEM blocks (keys) are skipped, so a combined key+certificate file works.
package certfile

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Status is the outcome for one file. Its numeric value is the status_code field; 0–2 mean
// what they mean for a served certificate.
type Status int

// Statuses, in status_code order.
const (
	// StatusValid: the file's leaf certificate is within its validity period.
	StatusValid Status = iota
	// StatusExpired: the leaf's notAfter has passed.
	StatusExpired
	// StatusNotYetValid: the leaf's notBefore is in the future.
	StatusNotYetValid
	// StatusNotFound: no file matches the pattern (or the pattern's directory cannot be
	// listed, which globbing cannot tell apart).
	StatusNotFound
	// StatusUnreadable: the file exists but cannot be read (permissions, a directory).
	StatusUnreadable
	// StatusNotCertificate: the file holds no PEM CERTIFICATE block, or one that does not parse.
	StatusNotCertificate
)

var statusNames = [...]string{"valid", "expired", "not_yet_valid", "not_found", "unreadable", "not_certificate"}

// String returns the status tag value, e.g. "not_certificate".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Errors a Result's Err wraps for the statuses that have no underlying I/O error.
var (
	ErrNoMatch       = errors.New("no file matches")
	ErrNoCertificate = errors.New("no PEM CERTIFICATE block")
)

// Result is what one file holds.
type Result struct {
	// Path is the file read; for StatusNotFound, the pattern that matched nothing.
	Path   string
	Status Status
	// Leaf is the first certificate in the file; nil unless Status is valid, expired or
	// not_yet_valid.
	Leaf *x509.Certificate
	// Chain holds the certificates after the leaf, in file order.
	Chain []*x509.Certificate
	// Err says what went wrong; nil when a certificate was read.
	Err error
}

// ChainNotAfter is the earliest notAfter of the leaf and the chain after it: when the file's
// bundle as a whole stops working.
func (r *Result) ChainNotAfter() time.Time {
	end := r.Leaf.NotAfter
	for _, c := range r.Chain {
		if c.NotAfter.Before(end) {
			end = c.NotAfter
		}
	}
	return end
}

// ValidatePattern reports a pattern that can never match: empty, relative (a Telegraf input's
// working directory is not the user's), or not glob syntax.
func ValidatePattern(p string) error {
	switch {
	case p == "":
		return errors.New("empty pattern")
	case !filepath.IsAbs(p):
		return fmt.Errorf("%q is relative; give an absolute path or pattern", p)
	}
	if _, err := filepath.Match(p, ""); err != nil {
		return fmt.Errorf("%q is not a valid glob pattern: %w", p, err)
	}
	return nil
}

// ReadAll expands every pattern and reads every file matched, in path order; a file matched
// by several patterns is read once. A pattern matching nothing gives one StatusNotFound
// Result for the pattern itself. now judges validity.
func ReadAll(patterns []string, now time.Time) []Result {
	var out []Result
	seen := map[string]bool{}
	for _, p := range patterns {
		matches, err := filepath.Glob(p)
		if err != nil { // only a malformed pattern, which ValidatePattern refuses up front
			out = append(out, Result{Path: p, Status: StatusNotFound, Err: err})
			continue
		}
		if len(matches) == 0 {
			out = append(out, Result{Path: p, Status: StatusNotFound, Err: ErrNoMatch})
			continue
		}
		sort.Strings(matches)
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				out = append(out, Read(m, now))
			}
		}
	}
	return out
}

// Read reads one file. Symlinks are followed (certbot's live/ directory is made of them).
func Read(path string, now time.Time) Result {
	r := Result{Path: path}
	b, err := os.ReadFile(path)
	if err != nil {
		r.Status, r.Err = StatusUnreadable, err
		if errors.Is(err, os.ErrNotExist) { // removed between glob and read, or a dangling link
			r.Status = StatusNotFound
		}
		return r
	}
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			if r.Leaf == nil {
				r.Status, r.Err = StatusNotCertificate, err
				return r
			}
			continue // a damaged chain entry does not hide a good leaf
		}
		if r.Leaf == nil {
			r.Leaf = c
		} else {
			r.Chain = append(r.Chain, c)
		}
	}
	switch {
	case r.Leaf == nil:
		r.Status, r.Err = StatusNotCertificate, ErrNoCertificate
	case now.After(r.Leaf.NotAfter):
		r.Status = StatusExpired
	case now.Before(r.Leaf.NotBefore):
		r.Status = StatusNotYetValid
	default:
		r.Status = StatusValid
	}
	return r
}

// Names returns the names a leaf is for, one domain tag each: its DNS names; failing those its
// IP addresses; failing those its subject common name; nil when it has none of them.
func Names(c *x509.Certificate) []string {
	if len(c.DNSNames) > 0 {
		return c.DNSNames
	}
	if len(c.IPAddresses) > 0 {
		out := make([]string, len(c.IPAddresses))
		for i, ip := range c.IPAddresses {
			out[i] = ip.String()
		}
		return out
	}
	if c.Subject.CommonName != "" {
		return []string{c.Subject.CommonName}
	}
	return nil
}
