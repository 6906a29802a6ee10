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
	"unicode/utf8"

	"golang.org/x/net/idna"

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

// cipherSuites offers every TLS 1.0–1.2 suite Go implements, the insecure ones included
// (RSA key exchange, CBC, 3DES, RC4), which Go's defaults leave out. A backend that speaks
// only those still deserves an expiry reading, and nothing secret crosses this connection:
// we read the certificate and hang up. Go orders the offer itself, secure suites first, so a
// modern server still picks a modern suite.
var cipherSuites = func() []uint16 {
	var ids []uint16
	for _, s := range tls.CipherSuites() {
		ids = append(ids, s.ID)
	}
	for _, s := range tls.InsecureCipherSuites() {
		ids = append(ids, s.ID)
	}
	return ids
}()

// curves are the key exchanges offered: the classic ones only. Go's default puts the hybrid
// post-quantum ones (X25519MLKEM768, ...) first, whose key share costs the client an ML-KEM
// key pair per connection (≈ 10 KB allocated, and CPU) and makes the ClientHello 1.2 KB
// longer; they protect the confidentiality of what crosses the connection, and nothing does
// here: we read the certificate and hang up. TLS 1.3 servers must support P-256 (RFC 8446,
// 9.1), so no server is lost; one that prefers another of these curves to X25519 asks for it
// with a HelloRetryRequest.
var curves = []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521}

// ASCIIDomain returns the name a certificate and an SNI extension carry for domain: an
// internationalised name ("bücher.test") becomes its A-label form ("xn--bcher-kva.test", per
// UTS #46 lookup rules, lower case). An ASCII domain or an IP address is returned unchanged.
// It fails for a non-ASCII name that has no valid A-label form.
func ASCIIDomain(domain string) (string, error) {
	if isASCII(domain) {
		return domain, nil
	}
	return idna.Lookup.ToASCII(domain)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Probe dials pr.Target.Address on pr.Port, handshakes with pr.Domain as SNI and judges what
// was served. An internationalised domain is sent and matched in its A-label form (see
// ASCIIDomain); the Result keeps the domain as given. It returns after at most 2×Timeout,
// sooner if ctx ends.
func (p *Prober) Probe(ctx context.Context, pr target.Probe) Result {
	return p.probe(ctx, pr, nil)
}

// probe is Probe, verifying chains through cache when it is not nil (see verifyCache).
func (p *Prober) probe(ctx context.Context, pr target.Probe, cache *verifyCache) Result {
	res := Result{Probe: pr}
	// A name without a valid A-label form is refused by the configuration; should one arrive
	// anyway, it is sent as given and simply matches no certificate (not_found).
	name, err := ASCIIDomain(pr.Domain)
	if err != nil {
		name = pr.Domain
	}
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
		ServerName: name,
		// Verification happens below, after the handshake, so that an expired or untrusted
		// certificate is still read and measured instead of aborting the handshake.
		InsecureSkipVerify: true, //nolint:gosec // verified separately in judge
		// Legacy backends still deserve an expiry reading; we send no secrets over this link.
		MinVersion:       tls.VersionTLS10,
		CipherSuites:     cipherSuites,
		CurvePreferences: curves,
		Certificates:     p.certs,
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
	p.judge(&res, name, cache)
	if err != nil {
		res.Status = StatusHandshakeFailed
		if isTimeout(err) || errors.Is(hctx.Err(), context.DeadlineExceeded) {
			res.Status = StatusTimeout
		}
		res.Err = &Error{Step: "handshake", Address: addr, Err: err}
	}
	return res
}

// judge sets the certificate-derived parts of res: status, hostname match and trust. name is
// the domain as certificates spell it (A-labels). A chain that cache holds as verified for
// name at res.At is not verified again; a nil cache verifies every chain.
func (p *Prober) judge(res *Result, name string, cache *verifyCache) {
	leaf := res.Leaf()
	if leaf == nil {
		res.Status = StatusNotFound
		return
	}
	res.HostnameMatch = leaf.VerifyHostname(name) == nil
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
	var key chainKey
	if cache != nil {
		key = verifyKey(name, res.Chain)
		if cache.verified(key, res.At) {
			res.Verified = true
			return
		}
	}
	intermediates := x509.NewCertPool()
	for _, c := range res.Chain[1:] {
		intermediates.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         p.roots,
		Intermediates: intermediates,
		DNSName:       name,
		CurrentTime:   res.At,
	})
	if err == nil && cache != nil {
		cache.remember(key, chains[0])
	}
	res.VerifyErr = stableVerifyError(err, leaf)
	res.Verified = res.VerifyErr == nil
}
