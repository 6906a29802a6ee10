// Package testcerts generates certificate authorities, intermediates and leaf certificates for
// tests and the demo, and serves them from real TLS listeners. Nothing here is for production:
// keys are generated fresh per call and never stored.
package testcerts

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// KeyType selects the key algorithm of a generated certificate.
type KeyType string

// Key types; the zero value means ECDSA P-256 (fast to generate).
const (
	ECDSA   KeyType = ""
	RSA2048 KeyType = "rsa"
	Ed25519 KeyType = "ed25519"
)

// Options describe a certificate to issue.
type Options struct {
	CommonName string
	DNSNames   []string
	IPs        []net.IP
	NotBefore  time.Time
	NotAfter   time.Time
	KeyType    KeyType
	// ClientAuth issues a client certificate (ExtKeyUsageClientAuth) instead of a server one.
	ClientAuth bool
}

// CA is a certificate authority (root or intermediate) that can issue certificates.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// Chain holds the CA's own certificate followed by its issuers up to, not including, the root.
	// For a root it is just the root.
	Chain []*x509.Certificate
	root  bool
}

// Leaf is an issued end-entity certificate with its key.
type Leaf struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// Intermediates as a server would send them after the leaf (no root).
	Intermediates []*x509.Certificate
}

func newKey(kt KeyType) (crypto.Signer, error) {
	switch kt {
	case ECDSA:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("testcerts: unknown key type %q", kt)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		panic(err)
	}
	return n
}

func create(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// NewCA returns a self-signed root CA valid from notBefore to notAfter.
func NewCA(name string, notBefore, notAfter time.Time) (*CA, error) {
	key, err := newKey(ECDSA)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"telegraf-certexpiry tests"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	cert, err := create(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, Chain: []*x509.Certificate{cert}, root: true}, nil
}

// Intermediate issues a subordinate CA.
func (ca *CA) Intermediate(name string, notBefore, notAfter time.Time) (*CA, error) {
	key, err := newKey(ECDSA)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	cert, err := create(tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, err
	}
	chain := []*x509.Certificate{cert}
	if !ca.root {
		chain = append(chain, ca.Chain...)
	}
	return &CA{Cert: cert, Key: key, Chain: chain}, nil
}

// Issue signs a leaf certificate. The leaf's Intermediates are this CA's chain when the CA is
// an intermediate, and empty when it is a root.
func (ca *CA) Issue(o Options) (*Leaf, error) {
	key, err := newKey(o.KeyType)
	if err != nil {
		return nil, err
	}
	cert, err := create(leafTemplate(o), ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, err
	}
	leaf := &Leaf{Cert: cert, Key: key}
	if !ca.root {
		leaf.Intermediates = append(leaf.Intermediates, ca.Chain...)
	}
	return leaf, nil
}

// SelfSigned returns a leaf certificate signed by its own key.
func SelfSigned(o Options) (*Leaf, error) {
	key, err := newKey(o.KeyType)
	if err != nil {
		return nil, err
	}
	tmpl := leafTemplate(o)
	cert, err := create(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return &Leaf{Cert: cert, Key: key}, nil
}

func leafTemplate(o Options) *x509.Certificate {
	usage := x509.ExtKeyUsageServerAuth
	if o.ClientAuth {
		usage = x509.ExtKeyUsageClientAuth
	}
	ku := x509.KeyUsageDigitalSignature
	if o.KeyType == RSA2048 {
		ku |= x509.KeyUsageKeyEncipherment
	}
	return &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: o.CommonName},
		DNSNames:     o.DNSNames,
		IPAddresses:  o.IPs,
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
		KeyUsage:     ku,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
}

// TLSCertificate returns the leaf and its intermediates as a tls.Certificate to serve.
func (l *Leaf) TLSCertificate() tls.Certificate {
	c := tls.Certificate{Certificate: [][]byte{l.Cert.Raw}, PrivateKey: l.Key, Leaf: l.Cert}
	for _, ic := range l.Intermediates {
		c.Certificate = append(c.Certificate, ic.Raw)
	}
	return c
}

// CertPEM returns the leaf followed by its intermediates, PEM-encoded (a fullchain.pem).
func (l *Leaf) CertPEM() []byte {
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.Cert.Raw})
	for _, ic := range l.Intermediates {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ic.Raw})...)
	}
	return out
}

// KeyPEM returns the private key as PKCS#8 PEM.
func (l *Leaf) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(l.Key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// CertPEM returns the CA certificate, PEM-encoded (for a tls_ca file).
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// Pool returns a cert pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}
