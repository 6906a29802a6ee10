package testcerts

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"
)

func TestChainVerifiesThroughIntermediate(t *testing.T) {
	now := time.Now()
	root, err := NewCA("R", now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.Intermediate("I", now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := inter.Issue(Options{DNSNames: []string{"x.test"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(leaf.Intermediates) != 1 || !leaf.Intermediates[0].Equal(inter.Cert) {
		t.Fatalf("leaf intermediates = %d, want the issuing CA", len(leaf.Intermediates))
	}
	pool := x509.NewCertPool()
	pool.AddCert(inter.Cert)
	if _, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: root.Pool(), Intermediates: pool, DNSName: "x.test"}); err != nil {
		t.Fatal(err)
	}
	// fullchain.pem order: leaf, then intermediate.
	rest := leaf.CertPEM()
	var blocks []*pem.Block
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	if len(blocks) != 2 || string(blocks[0].Bytes) != string(leaf.Cert.Raw) {
		t.Fatalf("CertPEM has %d blocks, want leaf then intermediate", len(blocks))
	}
	if _, err := tls.X509KeyPair(leaf.CertPEM(), leaf.KeyPEM()); err != nil {
		t.Fatalf("PEM pair does not load: %v", err)
	}
}

func TestServerRecordsSNI(t *testing.T) {
	now := time.Now()
	leaf, err := SelfSigned(Options{DNSNames: []string{"a.test"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ServeLeaf("127.0.0.1:0", leaf)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := tls.Dial("tcp", s.Addr(), &tls.Config{ServerName: "a.test", InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if got := s.SNI(); len(got) != 1 || got[0] != "a.test" {
		t.Fatalf("SNI = %q", got)
	}
}
