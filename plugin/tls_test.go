package plugin

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"go.step.sm/crypto/pemutil"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
)

// tls_key_pwd decrypts an encrypted PKCS#8 client key, as in Telegraf's own plugins, and the
// client certificate then gets the server's certificate read.
func TestEncryptedClientKey(t *testing.T) {
	root := must(testcerts.NewCA("Root", now.Add(-365*day), now.Add(3650*day)))
	server := must(root.Issue(testcerts.Options{DNSNames: []string{"mtls.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day)}))
	// The server checks the client certificate against the real clock.
	clientCA := must(testcerts.NewCA("Client CA", time.Now().Add(-day), time.Now().Add(day)))
	// Telegraf's loader decrypts RSA keys only.
	client := must(clientCA.Issue(testcerts.Options{CommonName: "prober", NotBefore: time.Now().Add(-day), NotAfter: time.Now().Add(day), ClientAuth: true, KeyType: testcerts.RSA2048}))
	der, err := x509.MarshalPKCS8PrivateKey(client.Key)
	if err != nil {
		t.Fatal(err)
	}
	block, err := pemutil.EncryptPKCS8PrivateKey(rand.Reader, der, []byte("changeme"), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	certPath := writeFile(t, "client.pem", client.CertPEM())
	keyPath := writeFile(t, "client-key.pem", pem.EncodeToMemory(block))
	srv := must(testcerts.Serve("127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{server.TLSCertificate()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCA.Pool(),
		MaxVersion:   tls.VersionTLS12, // a refused client certificate then fails the handshake itself
	}))
	t.Cleanup(func() { srv.Close() })

	newPlugin := func(pwd string) *CertExpiry {
		c := New()
		c.now = func() time.Time { return now }
		c.Domains = []string{"mtls.test"}
		c.TLSCA = writeFile(t, "ca.pem", root.CertPEM())
		c.TLSCert, c.TLSKey, c.TLSKeyPwd = certPath, keyPath, pwd
		c.Targets = []StaticTarget{{Address: "127.0.0.1", Ports: []int{srv.Port()}}}
		return c
	}
	prefix := "tls_cert: loading " + certPath + " and " + keyPath + ": "
	if err := newPlugin("").Init(); err == nil || err.Error() != prefix+"missing password for PKCS#8 encrypted private key" {
		t.Errorf("no tls_key_pwd: %v", err)
	}
	if err := newPlugin("wrong").Init(); err == nil || !strings.HasPrefix(err.Error(), prefix+"failed to decrypt PKCS#8 private key: ") {
		t.Errorf("wrong tls_key_pwd: %v", err)
	}

	c := newPlugin("changeme")
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	acc := &metrictest.Accumulator{}
	if err := c.Start(acc); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if err := c.Gather(acc); err != nil {
		t.Fatal(err)
	}
	rows := acc.Measurement("cert_expiry")
	if len(rows) != 1 || rows[0].Tags["status"] != "valid" || rows[0].Fields["error"] != nil {
		t.Fatalf("rows %v: want one valid row without error (the client certificate was accepted)", rows)
	}
}
