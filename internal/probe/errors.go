package probe

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Error is the failure of one probe step; its message names the step and the address once,
// e.g. `dial 127.0.0.1:443: connect: connection refused`.
//
// The message is stable between probes of the same endpoint: it becomes a field value, which
// Prometheus turns into a label and some tools into a series, so a text that changed at every
// gather would make a new series at every gather. Go's own net errors repeat the address and
// carry the local, ephemeral port ("dial tcp 127.0.0.1:443: …", "read tcp
// 127.0.0.1:53422->127.0.0.1:443: …"); Error leaves both out. Unwrap still gives the original
// error for errors.Is and errors.As.
type Error struct {
	Step    string // "dial" or "handshake"
	Address string // host:port that was dialled
	Err     error
}

func (e *Error) Error() string { return e.Step + " " + e.Address + ": " + stableText(e.Err, e.Step) }
func (e *Error) Unwrap() error { return e.Err }

// ErrBudgetExceeded is the cause of a timeout row for a probe that never started because the
// gather budget ran out first.
var ErrBudgetExceeded = errors.New("gather budget exhausted before the probe started")

// isTimeout reports whether err is a deadline expiry, from a net deadline or a context.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// VerifyError is a failed chain verification, said without the clock reading Go's x509 puts
// into validity errors ("current time 2030-06-15T12:00:00Z is after …"): the bound that was
// crossed stays, so the text only changes when the certificate does. Unwrap gives crypto/x509's
// error (x509.CertificateInvalidError, x509.UnknownAuthorityError, x509.HostnameError, …).
type VerifyError struct {
	text string
	err  error
}

func (e *VerifyError) Error() string { return e.text }
func (e *VerifyError) Unwrap() error { return e.err }

// stableVerifyError wraps a crypto/x509 verification error of leaf in a VerifyError; nil stays
// nil. x509 reports an intermediate or root out of its validity period with the same words as
// an expired leaf, so such a text names the authority certificate:
// `x509: authority certificate "R11" has expired (not after 2030-06-05T12:00:00Z)`.
func stableVerifyError(err error, leaf *x509.Certificate) error {
	if err == nil {
		return nil
	}
	text := withoutClock(err.Error())
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) && invalid.Reason == x509.Expired && invalid.Cert != nil && !invalid.Cert.Equal(leaf) {
		text = strings.Replace(text, "x509: certificate ", "x509: authority certificate "+strconv.Quote(certName(invalid.Cert))+" ", 1)
	}
	return &VerifyError{text: text, err: err}
}

// certName names a certificate as crypto/x509 does in its errors: the subject's common name,
// else its first organization, else the whole subject.
func certName(c *x509.Certificate) string {
	switch {
	case c.Subject.CommonName != "":
		return c.Subject.CommonName
	case len(c.Subject.Organization) > 0:
		return c.Subject.Organization[0]
	}
	return c.Subject.String()
}

// x509Validity matches crypto/x509's CertificateInvalidError text for Reason Expired, wherever
// it appears: alone for the leaf, or quoted inside an UnknownAuthorityError when an
// intermediate or root was out of its validity period.
var x509Validity = regexp.MustCompile(`x509: certificate has expired or is not yet valid: current time [0-9TZ:+.-]+ is (after|before) ([0-9TZ:+.-]+)`)

// withoutClock rewrites x509's validity texts to name only the bound that was crossed:
// "x509: certificate has expired (not after 2030-06-15T11:00:00Z)" and
// "x509: certificate is not yet valid (not before 2030-06-16T12:00:00Z)".
func withoutClock(s string) string {
	return x509Validity.ReplaceAllStringFunc(s, func(m string) string {
		sub := x509Validity.FindStringSubmatch(m)
		if sub[1] == "after" {
			return "x509: certificate has expired (not after " + sub[2] + ")"
		}
		return "x509: certificate is not yet valid (not before " + sub[2] + ")"
	})
}

// stableText says err without the parts of a *net.OpError that repeat what Error already
// names or that change from one connection to the next: "dial tcp 127.0.0.1:443: connect:
// connection refused" under step "dial" becomes "connect: connection refused", and "read tcp
// 127.0.0.1:53422->127.0.0.1:443: read: connection reset by peer" becomes "read: connection
// reset by peer". An operation that would otherwise go unsaid is kept ("read: i/o timeout");
// an OpError wrapped by other errors is rewritten in place.
func stableText(err error, step string) string {
	s := err.Error()
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		inner := stableText(oe.Err, step)
		if oe.Op != step && !strings.HasPrefix(inner, oe.Op+":") {
			inner = oe.Op + ": " + inner
		}
		s = strings.Replace(s, oe.Error(), inner, 1)
	}
	return withoutClock(s)
}
