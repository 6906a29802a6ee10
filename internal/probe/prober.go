// Package probe dials one (address, port, domain), performs a TLS handshake with the domain as
// SNI and reports the served certificate chain, its validity and its trust — always as exactly
// one Result, whatever happens. Certificates are read with verification off and verified
// afterwards, so an expired, misnamed or untrusted certificate is still measured.
package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
)

// DefaultTimeout bounds the dial and, separately, the handshake of one probe when
// Config.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Dialer opens TCP connections; *net.Dialer satisfies it. Tests inject their own.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Config configures a Prober. The zero value is usable: system roots, no client certificate,
// DefaultTimeout, a plain net.Dialer and the real clock.
type Config struct {
	// Timeout bounds the TCP dial and the TLS handshake, each on its own; a probe therefore
	// takes at most 2×Timeout, and never outlives the context it runs under.
	Timeout time.Duration
	// Roots verifies chains; nil means the system roots.
	Roots *x509.CertPool
	// ClientCertificates are offered to servers that ask for one (mTLS backends).
	ClientCertificates []tls.Certificate
	// Dialer opens connections; nil means &net.Dialer{}.
	Dialer Dialer
	// Now is the clock the validity checks use; nil means time.Now.
	Now func() time.Time
}

// Prober probes certificates. It holds no state between probes and is safe for concurrent use.
type Prober struct {
	timeout time.Duration
	roots   *x509.CertPool
	certs   []tls.Certificate
	dialer  Dialer
	now     func() time.Time
}

// New returns a Prober for cfg, with defaults filled in.
func New(cfg Config) *Prober {
	p := &Prober{timeout: cfg.Timeout, roots: cfg.Roots, certs: cfg.ClientCertificates, dialer: cfg.Dialer, now: cfg.Now}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if p.dialer == nil {
		p.dialer = &net.Dialer{}
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p
}

// Result is what one probe found. Chain is set whenever the server sent certificates, even if
// the handshake failed afterwards (e.g. the server rejected our client certificate).
type Result struct {
	Probe  target.Probe
	Status Status
	// Err is why the probe failed (unreachable, handshake_failed, timeout); nil otherwise.
	Err error
	// At is the clock reading the certificate was judged against; derived times (expiry, age)
	// are relative to it.
	At time.Time
	// Handshake is how long the TLS handshake took (wall clock); zero when none was attempted.
	Handshake time.Duration
	// TLSVersion is the negotiated version (tls.VersionTLS13, ...); zero if the handshake failed.
	TLSVersion uint16
	// Chain is the served chain, leaf first, as sent (not as verified).
	Chain []*x509.Certificate
	// HostnameMatch reports whether the leaf covers the domain (SAN DNS names or IPs).
	HostnameMatch bool
	// Verified reports whether the chain verifies to a trusted root for the domain at At.
	Verified bool
	// VerifyErr says why verification failed; nil when Verified.
	VerifyErr error
}

// Leaf returns the served leaf certificate, or nil.
func (r *Result) Leaf() *x509.Certificate {
	if len(r.Chain) == 0 {
		return nil
	}
	return r.Chain[0]
}

// Probe dials pr.Target.Address on pr.Port, handshakes with pr.Domain as SNI and judges what
// was served. It returns after at most 2×Timeout, sooner if ctx ends.
func (p *Prober) Probe(ctx context.Context, pr target.Probe) Result {
	res := Result{Probe: pr}
	addr := net.JoinHostPort(pr.Target.Address, strconv.Itoa(pr.Port))
	if ctx.Err() != nil {
		res.Status, res.Err, res.At = StatusTimeout, ErrBudgetExceeded, p.now()
		return res
	}

	dctx, cancel := context.WithTimeout(ctx, p.timeout)
	conn, err := p.dialer.DialContext(dctx, "tcp", addr)
	cancel()
	if err != nil {
		res.At = p.now()
		res.Status = StatusUnreachable
		if isTimeout(err) {
			res.Status = StatusTimeout
		}
		res.Err = &Error{Step: "dial", Address: addr, Err: err}
		return res
	}
	defer conn.Close()

	var served []*x509.Certificate
	cfg := &tls.Config{
		ServerName: pr.Domain,
		// Verification happens below, after the handshake, so that an expired or untrusted
		// certificate is still read and measured instead of aborting the handshake.
		InsecureSkipVerify: true, //nolint:gosec // verified separately in judge
		// Legacy backends still deserve an expiry reading; we send no secrets over this link.
		MinVersion:   tls.VersionTLS10,
		Certificates: p.certs,
		// Capture the chain as soon as it arrives: if the handshake fails later (e.g. a
		// rejected client certificate) the certificate is still known. crypto/tls has parsed
		// it already (and shares one parse between connections serving the same DER), so it
		// is taken from the connection state rather than parsed a second time.
		VerifyConnection: func(cs tls.ConnectionState) error {
			served = cs.PeerCertificates
			return nil
		},
	}
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, p.timeout)
	start := time.Now()
	err = tc.HandshakeContext(hctx)
	res.Handshake = time.Since(start)
	cancel()
	res.At = p.now()
	res.Chain = served
	if err == nil {
		res.TLSVersion = tc.ConnectionState().Version
	}
	p.judge(&res)
	if err != nil {
		res.Status = StatusHandshakeFailed
		if isTimeout(err) || errors.Is(hctx.Err(), context.DeadlineExceeded) {
			res.Status = StatusTimeout
		}
		res.Err = &Error{Step: "handshake", Address: addr, Err: err}
	}
	return res
}

// judge sets the certificate-derived parts of res: status, hostname match and trust.
func (p *Prober) judge(res *Result) {
	leaf := res.Leaf()
	if leaf == nil {
		res.Status = StatusNotFound
		return
	}
	res.HostnameMatch = leaf.VerifyHostname(res.Probe.Domain) == nil
	switch {
	case !res.HostnameMatch:
		res.Status = StatusNotFound
	case res.At.Before(leaf.NotBefore):
		res.Status = StatusNotYetValid
	case res.At.After(leaf.NotAfter):
		res.Status = StatusExpired
	default:
		res.Status = StatusValid
	}
	intermediates := x509.NewCertPool()
	for _, c := range res.Chain[1:] {
		intermediates.AddCert(c)
	}
	_, res.VerifyErr = leaf.Verify(x509.VerifyOptions{
		Roots:         p.roots,
		Intermediates: intermediates,
		DNSName:       res.Probe.Domain,
		CurrentTime:   res.At,
	})
	res.Verified = res.VerifyErr == nil
}
