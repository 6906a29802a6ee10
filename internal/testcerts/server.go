package testcerts

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// Server is a real TLS listener that completes handshakes and then closes the connection.
type Server struct {
	Listener net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	sni      []string
}

// Serve listens on addr (e.g. "127.0.0.2:0") and serves cfg. Close stops it.
func Serve(addr string, cfg *tls.Config) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Listener: l}
	inner := cfg.Clone()
	prev := inner.GetConfigForClient
	inner.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		s.mu.Lock()
		s.sni = append(s.sni, h.ServerName)
		s.mu.Unlock()
		if prev != nil {
			return prev(h)
		}
		return nil, nil
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				tc := tls.Server(c, inner)
				_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
				_ = tc.Handshake()
				_ = tc.Close()
			}()
		}
	}()
	return s, nil
}

// ServeLeaf serves one certificate for every SNI.
func ServeLeaf(addr string, leaf *Leaf) (*Server, error) {
	return Serve(addr, &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}})
}

// Addr returns the listener's host:port.
func (s *Server) Addr() string { return s.Listener.Addr().String() }

// Port returns the listener's port.
func (s *Server) Port() int { return s.Listener.Addr().(*net.TCPAddr).Port }

// SNI returns the server names clients sent, in order.
func (s *Server) SNI() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sni...)
}

// Close stops accepting and waits for open connections to finish.
func (s *Server) Close() error {
	err := s.Listener.Close()
	s.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
