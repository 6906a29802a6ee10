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

// Silent is a listener that accepts connections and never says a word: a TLS client waits for
// a ServerHello until its deadline. Close releases the held connections.
type Silent struct {
	Listener net.Listener
	done     chan struct{}
}

// ServeSilent listens on addr (e.g. "127.0.0.1:0") and holds every connection open, silent.
func ServeSilent(addr string) (*Silent, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Silent{Listener: l, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		var held []net.Conn
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	return s, nil
}

// Port returns the listener's port.
func (s *Silent) Port() int { return s.Listener.Addr().(*net.TCPAddr).Port }

// Close stops listening and closes the held connections.
func (s *Silent) Close() error {
	err := s.Listener.Close()
	<-s.done
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
