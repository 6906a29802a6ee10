package probe

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// Go's net errors repeat the dialled address and carry the local port; Error says neither.
func TestErrorTextNamesTheAddressOnce(t *testing.T) {
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443}
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53422}
	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: remote, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	reset := &net.OpError{Op: "read", Net: "tcp", Source: local, Addr: remote, Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	readTimeout := &net.OpError{Op: "read", Net: "tcp", Source: local, Addr: remote, Err: os.ErrDeadlineExceeded}
	cases := []struct {
		err  *Error
		want string
	}{
		{&Error{"dial", "127.0.0.1:443", refused}, "dial 127.0.0.1:443: connect: connection refused"},
		{&Error{"dial", "a.test:443", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "a.test", Server: "127.0.0.53:53", IsNotFound: true}}},
			"dial a.test:443: lookup a.test on 127.0.0.53:53: no such host"},
		{&Error{"handshake", "127.0.0.1:443", reset}, "handshake 127.0.0.1:443: read: connection reset by peer"},
		{&Error{"handshake", "127.0.0.1:443", readTimeout}, "handshake 127.0.0.1:443: read: i/o timeout"},
		{&Error{"handshake", "127.0.0.1:443", fmt.Errorf("tls: reading record: %w", reset)}, "handshake 127.0.0.1:443: tls: reading record: read: connection reset by peer"},
		{&Error{"handshake", "127.0.0.1:443", &net.OpError{Op: "local error", Err: errors.New("tls: bad record MAC")}}, "handshake 127.0.0.1:443: local error: tls: bad record MAC"},
		{&Error{"handshake", "127.0.0.1:443", io.EOF}, "handshake 127.0.0.1:443: EOF"},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%q\nwant %q", got, tc.want)
		}
		if !errors.Is(tc.err, tc.err.Err) {
			t.Errorf("%q does not unwrap to its cause", tc.err)
		}
	}
}

// A verification text only changes when the certificate does: probing the same certificates
// an hour apart gives the same texts, naming the bound that was crossed, not the clock.
func TestVerificationTextIsStableBetweenProbes(t *testing.T) {
	k := newPKI(t)
	oldInter, err := k.root.Intermediate("Old Intermediate", now.Add(-400*day), now.Add(-10*day))
	if err != nil {
		t.Fatal(err)
	}
	expired := serveLeaf(t, issue(t, k.inter, testcerts.Options{DNSNames: []string{"old.test"}, NotBefore: now.Add(-100 * day), NotAfter: now.Add(-day)}))
	future := serveLeaf(t, issue(t, k.inter, testcerts.Options{DNSNames: []string{"future.test"}, NotBefore: now.Add(day), NotAfter: now.Add(90 * day)}))
	badChain := serveLeaf(t, issue(t, oldInter, testcerts.Options{DNSNames: []string{"chain.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day)}))
	cases := []struct {
		srv    *testcerts.Server
		domain string
		want   string
	}{
		{expired, "old.test", "x509: certificate has expired (not after 2030-06-14T12:00:00Z)"},
		{future, "future.test", "x509: certificate is not yet valid (not before 2030-06-16T12:00:00Z)"},
		{badChain, "chain.test", `x509: authority certificate "Old Intermediate" has expired (not after 2030-06-05T12:00:00Z)`},
	}
	for _, tc := range cases {
		for _, at := range []time.Time{now, now.Add(time.Hour)} {
			p := New(Config{Roots: k.root.Pool(), Now: func() time.Time { return at }, Timeout: 2 * time.Second})
			r := probeOnce(t, p, "127.0.0.1", tc.srv.Port(), tc.domain)
			if errText(r.VerifyErr) != tc.want || r.Verified {
				t.Errorf("%s at %v: verified %v, verification error\n%q\nwant\n%q", tc.domain, at, r.Verified, errText(r.VerifyErr), tc.want)
			}
		}
	}

	// The x509 error stays reachable for code that inspects it.
	p := New(Config{Roots: k.root.Pool(), Now: func() time.Time { return now }, Timeout: 2 * time.Second})
	r := probeOnce(t, p, "127.0.0.1", expired.Port(), "old.test")
	var invalid x509.CertificateInvalidError
	if !errors.As(r.VerifyErr, &invalid) || invalid.Reason != x509.Expired {
		t.Errorf("verification error %#v does not unwrap to x509.CertificateInvalidError{Reason: Expired}", r.VerifyErr)
	}
}

// Two probes of the same endpoint fail with the same text, although each connection has its
// own local port: a server that reads the ClientHello and resets the connection.
func TestFailureTextIsStableBetweenProbes(t *testing.T) {
	port := serveTCP(t, func(c net.Conn) {
		_, _ = c.Read(make([]byte, 4096))
		_ = c.(*net.TCPConn).SetLinger(0) // the close that follows sends RST
	})
	closed := testenv.FreePort(t)
	p := New(Config{Now: func() time.Time { return now }, Timeout: 2 * time.Second})
	for range 2 {
		r := probeOnce(t, p, "127.0.0.1", port, "reset.test")
		want := fmt.Sprintf("handshake 127.0.0.1:%d: read: connection reset by peer", port)
		if r.Status != StatusHandshakeFailed || errText(r.Err) != want {
			t.Errorf("reset: status %v err %q, want handshake_failed %q", r.Status, errText(r.Err), want)
		}
		r = probeOnce(t, p, "127.0.0.1", closed, "closed.test")
		want = fmt.Sprintf("dial 127.0.0.1:%d: connect: connection refused", closed)
		if r.Status != StatusUnreachable || errText(r.Err) != want {
			t.Errorf("closed: status %v err %q, want unreachable %q", r.Status, errText(r.Err), want)
		}
	}
}
