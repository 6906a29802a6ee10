package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// now is the injected clock: every certificate below is dated relative to it, so the judged
// status never depends on when the test runs.
var now = time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

type pki struct {
	root  *testcerts.CA
	inter *testcerts.CA
}

func newPKI(t *testing.T) pki {
	t.Helper()
	root, err := testcerts.NewCA("Test Root", now.Add(-365*day), now.Add(3650*day))
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.Intermediate("Test Intermediate", now.Add(-365*day), now.Add(1000*day))
	if err != nil {
		t.Fatal(err)
	}
	return pki{root: root, inter: inter}
}

func issue(t *testing.T, ca *testcerts.CA, o testcerts.Options) *testcerts.Leaf {
	t.Helper()
	leaf, err := ca.Issue(o)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func serve(t *testing.T, cfg *tls.Config) *testcerts.Server {
	t.Helper()
	s, err := testcerts.Serve("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func serveLeaf(t *testing.T, leaf *testcerts.Leaf) *testcerts.Server {
	t.Helper()
	return serve(t, &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}})
}

func probeOnce(t *testing.T, p *Prober, addr string, port int, domain string) Result {
	t.Helper()
	tg := &target.Target{Source: target.SourceStatic, Address: addr, Ports: []int{port}, Domains: []string{domain}}
	return p.Probe(context.Background(), target.Probe{Target: tg, Port: port, Domain: domain})
}

// serveTCP accepts connections on a loopback port until the test ends, hands each to handle
// and then closes it; it returns the port. For servers that misbehave below TLS.
func serveTCP(t *testing.T, handle func(c net.Conn)) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			handle(c)
			c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestProbeJudgesServedCertificate(t *testing.T) {
	k := newPKI(t)
	p := New(Config{Roots: k.root.Pool(), Now: func() time.Time { return now }, Timeout: 2 * time.Second})
	selfSigned, err := testcerts.SelfSigned(testcerts.Options{DNSNames: []string{"self.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day)})
	if err != nil {
		t.Fatal(err)
	}
	missingIntermediate := issue(t, k.inter, testcerts.Options{DNSNames: []string{"bare.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day)})
	missingIntermediate.Intermediates = nil

	cases := []struct {
		name          string
		leaf          *testcerts.Leaf
		domain        string
		status        Status
		hostnameMatch bool
		verified      bool
		verifyErr     string
		chainLen      int
	}{
		{
			name:   "valid",
			leaf:   issue(t, k.inter, testcerts.Options{DNSNames: []string{"ok.test"}, NotBefore: now.Add(-10 * day), NotAfter: now.Add(80 * day)}),
			domain: "ok.test", status: StatusValid, hostnameMatch: true, verified: true, chainLen: 2,
		},
		{
			name:   "wildcard covers subdomain",
			leaf:   issue(t, k.inter, testcerts.Options{DNSNames: []string{"*.wild.test"}, NotBefore: now.Add(-10 * day), NotAfter: now.Add(80 * day)}),
			domain: "a.wild.test", status: StatusValid, hostnameMatch: true, verified: true, chainLen: 2,
		},
		{
			name:   "expired",
			leaf:   issue(t, k.inter, testcerts.Options{DNSNames: []string{"old.test"}, NotBefore: now.Add(-100 * day), NotAfter: now.Add(-time.Second)}),
			domain: "old.test", status: StatusExpired, hostnameMatch: true, chainLen: 2,
			verifyErr: "x509: certificate has expired (not after 2030-06-15T11:59:59Z)",
		},
		{
			name:   "not yet valid",
			leaf:   issue(t, k.inter, testcerts.Options{DNSNames: []string{"future.test"}, NotBefore: now.Add(day), NotAfter: now.Add(90 * day)}),
			domain: "future.test", status: StatusNotYetValid, hostnameMatch: true, chainLen: 2,
			verifyErr: "x509: certificate is not yet valid (not before 2030-06-16T12:00:00Z)",
		},
		{
			name:   "wrong SAN",
			leaf:   issue(t, k.inter, testcerts.Options{DNSNames: []string{"other.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day)}),
			domain: "wanted.test", status: StatusNotFound, chainLen: 2,
			verifyErr: "x509: certificate is valid for other.test, not wanted.test",
		},
		{
			name:   "expired and wrong SAN is not_found: the wrong certificate is the problem",
			leaf:   issue(t, k.inter, testcerts.Options{DNSNames: []string{"other.test"}, NotBefore: now.Add(-100 * day), NotAfter: now.Add(-day)}),
			domain: "wanted.test", status: StatusNotFound, chainLen: 2,
			verifyErr: "x509: certificate has expired (not after 2030-06-14T12:00:00Z)",
		},
		{
			name:   "self-signed is measured but not verified",
			leaf:   selfSigned,
			domain: "self.test", status: StatusValid, hostnameMatch: true, chainLen: 1,
			verifyErr: "x509: certificate signed by unknown authority",
		},
		{
			name:   "missing intermediate",
			leaf:   missingIntermediate,
			domain: "bare.test", status: StatusValid, hostnameMatch: true, chainLen: 1,
			verifyErr: "x509: certificate signed by unknown authority",
		},
		{
			name:   "IP address SAN",
			leaf:   issue(t, k.inter, testcerts.Options{IPs: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day)}),
			domain: "127.0.0.1", status: StatusValid, hostnameMatch: true, verified: true, chainLen: 2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := serveLeaf(t, tc.leaf)
			r := probeOnce(t, p, "127.0.0.1", s.Port(), tc.domain)
			if r.Status != tc.status || r.Err != nil {
				t.Fatalf("status = %v (err %v), want %v", r.Status, r.Err, tc.status)
			}
			if r.HostnameMatch != tc.hostnameMatch || r.Verified != tc.verified || errText(r.VerifyErr) != tc.verifyErr {
				t.Errorf("hostname_match=%v verified=%v verify_err=%q\nwant hostname_match=%v verified=%v verify_err=%q",
					r.HostnameMatch, r.Verified, errText(r.VerifyErr), tc.hostnameMatch, tc.verified, tc.verifyErr)
			}
			if len(r.Chain) != tc.chainLen || !r.Chain[0].Equal(tc.leaf.Cert) {
				t.Errorf("chain has %d certificates (leaf %v), want %d with the served leaf", len(r.Chain), r.Chain[0].Subject, tc.chainLen)
			}
			if !r.At.Equal(now) {
				t.Errorf("At = %v, want the injected clock %v", r.At, now)
			}
			if r.TLSVersion != tls.VersionTLS13 || r.Handshake <= 0 {
				t.Errorf("tls version %x handshake %v: want TLS 1.3 and a positive handshake time", r.TLSVersion, r.Handshake)
			}
			if sni := s.SNI(); tc.domain != "127.0.0.1" && (len(sni) != 1 || sni[0] != tc.domain) {
				t.Errorf("server saw SNI %q, want [%q]", sni, tc.domain)
			}
		})
	}
}

// A server picking its certificate by SNI that has nothing for the asked domain answers with
// its default certificate: the domain is not found there.
func TestProbeSNISelectsCertificate(t *testing.T) {
	k := newPKI(t)
	a := issue(t, k.inter, testcerts.Options{DNSNames: []string{"a.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day)})
	b := issue(t, k.inter, testcerts.Options{DNSNames: []string{"b.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(60 * day)})
	byName := map[string]tls.Certificate{"a.test": a.TLSCertificate(), "b.test": b.TLSCertificate()}
	s := serve(t, &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if c, ok := byName[h.ServerName]; ok {
			return &c, nil
		}
		c := byName["a.test"]
		return &c, nil
	}})
	p := New(Config{Roots: k.root.Pool(), Now: func() time.Time { return now }})
	for domain, want := range map[string]struct {
		status Status
		leaf   *x509.Certificate
	}{
		"a.test": {StatusValid, a.Cert}, "b.test": {StatusValid, b.Cert}, "c.test": {StatusNotFound, a.Cert},
	} {
		r := probeOnce(t, p, "127.0.0.1", s.Port(), domain)
		if r.Status != want.status || !r.Leaf().Equal(want.leaf) {
			t.Errorf("%s: status %v leaf %v, want %v leaf %v", domain, r.Status, r.Leaf().DNSNames, want.status, want.leaf.DNSNames)
		}
	}
}

func TestProbeMutualTLS(t *testing.T) {
	k := newPKI(t)
	server := issue(t, k.inter, testcerts.Options{DNSNames: []string{"mtls.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day)})
	// The server checks the client chain against the real clock, not the injected one.
	clientCA, err := testcerts.NewCA("Client CA", time.Now().Add(-day), time.Now().Add(day))
	if err != nil {
		t.Fatal(err)
	}
	client := issue(t, clientCA, testcerts.Options{CommonName: "prober", NotBefore: time.Now().Add(-day), NotAfter: time.Now().Add(day), ClientAuth: true})
	cfg := &tls.Config{
		Certificates: []tls.Certificate{server.TLSCertificate()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCA.Pool(),
		// TLS 1.2: the server's rejection of a missing client certificate ends the handshake
		// itself (under TLS 1.3 it arrives only after the client's handshake has finished).
		MaxVersion: tls.VersionTLS12,
	}
	s := serve(t, cfg)

	with := New(Config{Roots: k.root.Pool(), Now: func() time.Time { return now }, ClientCertificates: []tls.Certificate{client.TLSCertificate()}})
	if r := probeOnce(t, with, "127.0.0.1", s.Port(), "mtls.test"); r.Status != StatusValid || r.Err != nil || r.TLSVersion != tls.VersionTLS12 {
		t.Fatalf("with client certificate: status %v err %v version %x, want valid over TLS 1.2", r.Status, r.Err, r.TLSVersion)
	}

	without := New(Config{Roots: k.root.Pool(), Now: func() time.Time { return now }})
	r := probeOnce(t, without, "127.0.0.1", s.Port(), "mtls.test")
	if r.Status != StatusHandshakeFailed {
		t.Fatalf("without client certificate: status %v, want handshake_failed", r.Status)
	}
	wantErr := fmt.Sprintf("handshake 127.0.0.1:%d: remote error: tls: handshake failure", s.Port())
	if errText(r.Err) != wantErr {
		t.Errorf("err = %q, want %q", errText(r.Err), wantErr)
	}
	// The certificate arrived before the server gave up: it is still measured.
	if r.Leaf() == nil || !r.Leaf().Equal(server.Cert) || !r.Verified {
		t.Errorf("leaf %v verified %v: want the server certificate, verified", r.Leaf(), r.Verified)
	}
}

func TestProbeFailures(t *testing.T) {
	p := New(Config{Now: func() time.Time { return now }, Timeout: 300 * time.Millisecond})

	t.Run("closed port is unreachable", func(t *testing.T) {
		port := testenv.FreePort(t)
		r := probeOnce(t, p, "127.0.0.1", port, "closed.test")
		want := fmt.Sprintf("dial 127.0.0.1:%d: connect: connection refused", port)
		if r.Status != StatusUnreachable || errText(r.Err) != want || r.Chain != nil || r.Handshake != 0 {
			t.Fatalf("status %v err %q chain %v: want unreachable, %q, no chain", r.Status, errText(r.Err), r.Chain, want)
		}
	})

	t.Run("accepts and never handshakes: timeout", func(t *testing.T) {
		l, err := testcerts.ServeSilent("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		port := l.Port()
		r := probeOnce(t, p, "127.0.0.1", port, "silent.test")
		want := fmt.Sprintf("handshake 127.0.0.1:%d: context deadline exceeded", port)
		if r.Status != StatusTimeout || errText(r.Err) != want {
			t.Fatalf("status %v err %q: want timeout, %q", r.Status, errText(r.Err), want)
		}
	})

	t.Run("garbage instead of TLS: handshake_failed", func(t *testing.T) {
		port := serveTCP(t, func(c net.Conn) {
			_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\nthis is not TLS at all\r\n"))
		})
		r := probeOnce(t, p, "127.0.0.1", port, "garbage.test")
		want := fmt.Sprintf("handshake 127.0.0.1:%d: tls: first record does not look like a TLS handshake", port)
		if r.Status != StatusHandshakeFailed || errText(r.Err) != want {
			t.Fatalf("status %v err %q: want handshake_failed, %q", r.Status, errText(r.Err), want)
		}
	})

	t.Run("IPv6 address is bracketed", func(t *testing.T) {
		// The address reaches the dialer bracketed, whether or not this machine has IPv6.
		d := &recordingDialer{}
		r := probeOnce(t, New(Config{Now: func() time.Time { return now }, Dialer: d}), "2001:db8::1", 8443, "v6.test")
		want := "dial [2001:db8::1]:8443: no route in this test"
		if d.addr != "[2001:db8::1]:8443" || r.Status != StatusUnreachable || errText(r.Err) != want {
			t.Fatalf("dialled %q, status %v err %q: want [2001:db8::1]:8443, unreachable, %q", d.addr, r.Status, errText(r.Err), want)
		}
	})

	t.Run("IPv6 loopback for real", func(t *testing.T) {
		l, err := net.Listen("tcp", "[::1]:0")
		if err != nil {
			if testenv.Integration() {
				t.Fatalf("no IPv6 loopback (::1) here: %v; the integration tests need it (sysctl net.ipv6.conf.lo.disable_ipv6=0)", err)
			}
			t.Skipf("no IPv6 loopback here: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		r := probeOnce(t, p, "::1", port, "v6.test")
		want := "dial [::1]:" + strconv.Itoa(port) + ": connect: connection refused"
		if r.Status != StatusUnreachable || errText(r.Err) != want {
			t.Fatalf("status %v err %q: want unreachable, %q", r.Status, errText(r.Err), want)
		}
	})
}

// recordingDialer records the address it is asked for and fails: no packet leaves.
type recordingDialer struct{ addr string }

func (d *recordingDialer) DialContext(_ context.Context, _, addr string) (net.Conn, error) {
	d.addr = addr
	return nil, errors.New("no route in this test")
}

func TestRunYieldsOneResultPerProbeInOrder(t *testing.T) {
	k := newPKI(t)
	leaf := issue(t, k.inter, testcerts.Options{DNSNames: []string{"a.test", "b.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day)})
	s := serveLeaf(t, leaf)
	closedPort := testenv.FreePort(t)
	targets := []target.Target{
		{Address: "127.0.0.1", Ports: []int{s.Port(), closedPort}, Domains: []string{"a.test", "b.test", "c.test"}},
	}
	probes := target.Expand(targets)
	p := New(Config{Roots: k.root.Pool(), Now: func() time.Time { return now }})
	results := p.Run(context.Background(), probes, 2)
	var got []string
	for i, r := range results {
		if r.Probe != probes[i] {
			t.Fatalf("result %d is for %+v, want %+v", i, r.Probe, probes[i])
		}
		got = append(got, fmt.Sprintf("%d/%s=%s", r.Probe.Port, r.Probe.Domain, r.Status))
	}
	want := []string{
		fmt.Sprintf("%d/a.test=valid", s.Port()), fmt.Sprintf("%d/b.test=valid", s.Port()), fmt.Sprintf("%d/c.test=not_found", s.Port()),
		fmt.Sprintf("%d/a.test=unreachable", closedPort), fmt.Sprintf("%d/b.test=unreachable", closedPort), fmt.Sprintf("%d/c.test=unreachable", closedPort),
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("results\n got %v\nwant %v", got, want)
	}
}

// Probes still queued when the gather budget ends are reported, not dropped.
func TestRunReportsBudgetExhaustion(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tg := target.Target{Address: "127.0.0.1", Ports: []int{1, 2, 3}, Domains: []string{"x.test"}}
	results := New(Config{Now: func() time.Time { return now }}).Run(ctx, target.Expand([]target.Target{tg}), 2)
	if len(results) != 3 {
		t.Fatalf("%d results, want 3", len(results))
	}
	for _, r := range results {
		if r.Status != StatusTimeout || errText(r.Err) != "gather budget exhausted before the probe started" {
			t.Errorf("port %d: status %v err %q, want timeout with the budget message", r.Probe.Port, r.Status, errText(r.Err))
		}
	}
}

func TestStatusNames(t *testing.T) {
	var got []string
	for _, s := range Statuses() {
		got = append(got, fmt.Sprintf("%d=%s", int(s), s))
	}
	want := "0=valid 1=expired 2=not_yet_valid 3=not_found 4=unreachable 5=handshake_failed 6=timeout"
	if strings.Join(got, " ") != want {
		t.Fatalf("statuses %q, want %q", strings.Join(got, " "), want)
	}
	if Status(42).String() != "status(42)" {
		t.Fatalf("unknown status prints %q", Status(42).String())
	}
}

// Legacy backends still get an expiry reading: the prober accepts TLS 1.0.
func TestProbeMeasuresTLS10Backend(t *testing.T) {
	k := newPKI(t)
	leaf := issue(t, k.inter, testcerts.Options{DNSNames: []string{"old.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day), KeyType: testcerts.RSA2048})
	s := serve(t, &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10})
	r := probeOnce(t, New(Config{Roots: k.root.Pool(), Now: func() time.Time { return now }}), "127.0.0.1", s.Port(), "old.test")
	if r.Status != StatusValid || r.Err != nil || r.TLSVersion != tls.VersionTLS10 || !r.Verified {
		t.Fatalf("status %v err %v version %x verified %v: want a verified valid certificate over TLS 1.0", r.Status, r.Err, r.TLSVersion, r.Verified)
	}
}

// An internationalised domain is sent as SNI and matched in its A-label form, the form
// certificates carry; the result keeps the domain as configured.
func TestProbeInternationalisedDomain(t *testing.T) {
	k := newPKI(t)
	leaf := issue(t, k.inter, testcerts.Options{DNSNames: []string{"xn--bcher-kva.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day)})
	s := serveLeaf(t, leaf)
	p := New(Config{Roots: k.root.Pool(), Now: func() time.Time { return now }})
	for _, domain := range []string{"bücher.test", "Bücher.test", "xn--bcher-kva.test"} {
		r := probeOnce(t, p, "127.0.0.1", s.Port(), domain)
		if r.Status != StatusValid || r.Err != nil || !r.HostnameMatch || !r.Verified {
			t.Errorf("%s: status %v err %v hostname_match %v verified %v (%v): want a verified valid certificate",
				domain, r.Status, r.Err, r.HostnameMatch, r.Verified, r.VerifyErr)
		}
		if r.Probe.Domain != domain {
			t.Errorf("result domain %q, want %q as configured", r.Probe.Domain, domain)
		}
	}
	want := []string{"xn--bcher-kva.test", "xn--bcher-kva.test", "xn--bcher-kva.test"}
	if got := s.SNI(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("server saw SNI %q, want %q", got, want)
	}
}

func TestASCIIDomain(t *testing.T) {
	for in, want := range map[string]string{
		"bücher.test": "xn--bcher-kva.test", "BÜCHER.test": "xn--bcher-kva.test", "straße.de": "xn--strae-oqa.de",
		// ASCII names and addresses pass untouched, whatever characters they hold.
		"ok.test": "ok.test", "Mixed.Test": "Mixed.Test", "_svc.test": "_svc.test", "127.0.0.1": "127.0.0.1", "::1": "::1",
	} {
		if got, err := ASCIIDomain(in); got != want || err != nil {
			t.Errorf("ASCIIDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ASCIIDomain("ü-.test"); err == nil || err.Error() != `idna: invalid label "ü-"` {
		t.Errorf(`ASCIIDomain("ü-.test") error %v, want idna: invalid label "ü-"`, err)
	}
}

// Legacy backends that speak only suites Go leaves out of its defaults (RSA key exchange, with
// CBC or GCM) still give a certificate reading.
func TestProbeMeasuresLegacyCipherSuites(t *testing.T) {
	k := newPKI(t)
	leaf := issue(t, k.inter, testcerts.Options{DNSNames: []string{"legacy.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day), KeyType: testcerts.RSA2048})
	p := New(Config{Roots: k.root.Pool(), Now: func() time.Time { return now }})
	for _, suite := range []uint16{
		tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	} {
		t.Run(tls.CipherSuiteName(suite), func(t *testing.T) {
			s := serve(t, &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}})
			r := probeOnce(t, p, "127.0.0.1", s.Port(), "legacy.test")
			if r.Status != StatusValid || r.Err != nil || r.TLSVersion != tls.VersionTLS12 || !r.Verified {
				t.Fatalf("status %v err %v version %x verified %v: want a verified valid certificate over TLS 1.2", r.Status, r.Err, r.TLSVersion, r.Verified)
			}
		})
	}
}

// The same against OpenSSL's own server, restricted to RSA key exchange suites: the kind of
// backend (an old appliance, a Java 6 service) the legacy suites are offered for.
func TestProbeMeasuresOpenSSLLegacyServer(t *testing.T) {
	openssl := testenv.Command(t, "openssl", "openssl")
	k := newPKI(t)
	leaf := issue(t, k.inter, testcerts.Options{DNSNames: []string{"legacy.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day), KeyType: testcerts.RSA2048})
	dir := t.TempDir()
	// s_server serves the first certificate of -cert, then those of -cert_chain.
	certPath, chainPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "chain.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, leaf.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(chainPath, k.inter.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, leaf.KeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	p := New(Config{Roots: k.root.Pool(), Now: func() time.Time { return now }})
	for _, cipher := range []string{"AES128-SHA", "AES256-SHA", "AES128-GCM-SHA256", "AES256-GCM-SHA384"} {
		t.Run(cipher, func(t *testing.T) {
			port := startOpenSSLServer(t, openssl, "-cert", certPath, "-cert_chain", chainPath, "-key", keyPath, "-tls1_2", "-cipher", cipher)
			r := probeOnce(t, p, "127.0.0.1", port, "legacy.test")
			if r.Status != StatusValid || r.Err != nil || r.TLSVersion != tls.VersionTLS12 || !r.Verified || len(r.Chain) != 2 || !r.Leaf().Equal(leaf.Cert) {
				t.Fatalf("status %v err %v version %x verified %v (%v) chain of %d: want the served certificate and its intermediate, verified and valid over TLS 1.2",
					r.Status, r.Err, r.TLSVersion, r.Verified, r.VerifyErr, len(r.Chain))
			}
		})
	}
}

// startOpenSSLServer runs `openssl s_server` on a free loopback port and returns the port
// once the server says it accepts. The server is killed when the test ends.
func startOpenSSLServer(t *testing.T, openssl string, args ...string) int {
	t.Helper()
	cmd := exec.Command(openssl, append([]string{"s_server", "-accept", "127.0.0.1:0", "-naccept", "1"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// s_server ends a connection when its stdin ends: keep stdin open until the test ends.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ports := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			// OpenSSL 3 prints "ACCEPT 127.0.0.1:PORT" once it listens.
			if rest, ok := strings.CutPrefix(sc.Text(), "ACCEPT "); ok {
				if _, p, err := net.SplitHostPort(rest); err == nil {
					if n, err := strconv.Atoi(p); err == nil {
						ports <- n
					}
				}
			}
		}
		close(ports)
	}()
	select {
	case port, ok := <-ports:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("openssl s_server %q exited before accepting: %s", args, stderr.String())
		}
		return port
	case <-time.After(20 * time.Second):
		t.Fatalf("openssl s_server %q printed no ACCEPT line within 20 s: %s", args, stderr.String())
	}
	return 0
}

// The probe offers only classic key exchanges (no ML-KEM key pair per connection), and still
// reaches a TLS 1.3 server that accepts only one of them, not its first choice.
func TestProbeOffersClassicKeyExchanges(t *testing.T) {
	k := newPKI(t)
	leaf := issue(t, k.inter, testcerts.Options{DNSNames: []string{"kex.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day)})
	for _, only := range []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521} {
		offered := make(chan []tls.CurveID, 1)
		s := serve(t, &tls.Config{
			Certificates:     []tls.Certificate{leaf.TLSCertificate()},
			MinVersion:       tls.VersionTLS13,
			CurvePreferences: []tls.CurveID{only},
			GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
				select {
				case offered <- h.SupportedCurves:
				default:
				}
				return nil, nil
			},
		})
		r := probeOnce(t, New(Config{Roots: k.root.Pool(), Now: func() time.Time { return now }}), "127.0.0.1", s.Port(), "kex.test")
		if r.Status != StatusValid || r.Err != nil || r.TLSVersion != tls.VersionTLS13 {
			t.Errorf("server accepting only %v: status %v err %v version %x, want valid over TLS 1.3", only, r.Status, r.Err, r.TLSVersion)
		}
		got := <-offered
		want := []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("offered %v, want %v", got, want)
		}
	}
}
