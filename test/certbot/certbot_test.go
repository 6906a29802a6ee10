package certbot

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// acme is a local ACME server: Pebble resolving every name to 127.0.0.1 through
// pebble-challtestsrv's DNS, on free loopback ports.
type acme struct {
	dirURL   string // https://127.0.0.1:PORT/dir
	caBundle string // trust for Pebble's own HTTPS endpoint (REQUESTS_CA_BUNDLE)
	httpPort int    // where Pebble validates http-01: certbot --standalone listens here
}

func startPebble(t *testing.T) *acme {
	t.Helper()
	pebble := testenv.Command(t, "pebble", "pebble")
	challsrv := testenv.Command(t, "pebble-challtestsrv", "pebble")
	dir := t.TempDir()

	// Pebble's HTTPS certificate, from our own test CA.
	now := time.Now()
	ca, err := testcerts.NewCA("pebble test CA", now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(testcerts.Options{CommonName: "localhost", DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	a := &acme{caBundle: filepath.Join(dir, "ca.pem"), httpPort: testenv.FreePort(t)}
	for name, b := range map[string][]byte{"ca.pem": ca.CertPEM(), "cert.pem": leaf.CertPEM(), "key.pem": leaf.KeyPEM()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	listen := testenv.FreeAddr(t)
	cfg, _ := json.Marshal(map[string]any{"pebble": map[string]any{
		"listenAddress":                  listen,
		"managementListenAddress":        testenv.FreeAddr(t),
		"certificate":                    filepath.Join(dir, "cert.pem"),
		"privateKey":                     filepath.Join(dir, "key.pem"),
		"httpPort":                       a.httpPort,
		"tlsPort":                        testenv.FreePort(t),
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
	}})
	cfgPath := filepath.Join(dir, "pebble-config.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}

	dns := testenv.FreeAddr(t)
	testenv.Start(t, challsrv, "-defaultIPv6", "", "-defaultIPv4", "127.0.0.1", "-dns01", dns,
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-management", testenv.FreeAddr(t))
	// No validation sleeps, and no deliberately rejected nonces: the test wants one clean run.
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	p := testenv.Start(t, pebble, "-config", cfgPath, "-dnsserver", dns)
	a.dirURL = "https://" + listen + "/dir"

	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(a.dirURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a
			}
		}
		if time.Now().After(deadline) || p.Exited() {
			t.Fatalf("pebble did not serve %s: %v", a.dirURL, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// certbot runs certbot with its state under dir and only the environment certbot needs.
func certbot(t *testing.T, a *acme, dir string, args ...string) string {
	t.Helper()
	bin := testenv.Command(t, "certbot", "certbot")
	args = append(args, "--non-interactive", "--server", a.dirURL,
		"--config-dir", filepath.Join(dir, "etc"), "--work-dir", filepath.Join(dir, "work"), "--logs-dir", filepath.Join(dir, "logs"))
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "REQUESTS_CA_BUNDLE=" + a.caBundle}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "logs", "letsencrypt.log"))
		t.Fatalf("certbot %s: %v\n%s\n--- letsencrypt.log (tail) ---\n%s", args[0], err, out.Bytes(), tailBytes(log, 6000))
	}
	return out.String()
}

func tailBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// readLeaf parses the lineage's cert.pem as certbot wrote it.
func readLeaf(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCertbotRenewalThroughInstalledHook: real certbot issues a certificate for two names from
// Pebble, `certbot-hook install` puts the hook into that certbot's renewal-hooks/deploy, and a
// forced renewal makes certbot run it: InfluxDB then holds exactly the renewal's points, with
// not_before, not_after and lifetime of the certificate certbot just wrote.
func TestCertbotRenewalThroughInstalledHook(t *testing.T) {
	testenv.RequireIntegration(t)
	a := startPebble(t)
	db := testenv.StartInfluxDB16(t, testenv.InfluxDBOptions{})
	influxQuery(t, db.URL, "", "", "", "CREATE DATABASE telegraf")

	dir := t.TempDir()
	certbot(t, a, dir, "certonly", "--standalone", "--agree-tos", "--register-unsafely-without-email",
		"--http-01-port", strconv.Itoa(a.httpPort), "--http-01-address", "127.0.0.1",
		"-d", "test.example", "-d", "www.test.example")

	cfg := writeConfig(t, dir, `url = "`+db.URL+`"
database = "telegraf"
host = "certbot-e2e"
spool = "`+filepath.Join(dir, "spool", "certbot.lp")+`"
retries = 0
`)
	hooks := filepath.Join(dir, "etc", "renewal-hooks", "deploy")
	r := runHook(t, nil, "install", "--dir", hooks, "--config", cfg, "--binary", hookBin)
	script := filepath.Join(hooks, "telegraf-certexpiry")
	if want := fmt.Sprintf("certbot-hook: installed %s: runs %s certbot-hook -config %s after each renewal\n", script, hookBin, cfg); r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Fatalf("install: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// Issuance alone runs no deploy hook from the directory: nothing written yet.
	if got := influxPoints(t, db.URL, "telegraf", "", ""); len(got) != 0 {
		t.Fatalf("points before any renewal: %q", got)
	}

	start := time.Now()
	out := certbot(t, a, dir, "renew", "--force-renewal", "--no-random-sleep-on-renew")
	end := time.Now()
	if !strings.Contains(out, "certbot-hook: delivered 3 lines to "+db.URL+"/write") {
		t.Errorf("certbot's output does not show the hook's report:\n%s", out)
	}
	if strings.Contains(out, "Error output from") {
		t.Errorf("certbot logged hook error output:\n%s", out)
	}

	leaf := readLeaf(t, filepath.Join(dir, "etc", "live", "test.example", "cert.pem"))
	got := influxPoints(t, db.URL, "telegraf", "", "")
	at := onlyTimestamp(t, got, result{start: start, end: end})
	// certbot's archive keeps the issued certificate as cert1.pem beside the renewed cert2.pem.
	c := certOf(leaf)
	prev := certOf(readLeaf(t, filepath.Join(dir, "etc", "archive", "test.example", "cert1.pem")))
	c.prevFingerprint, c.prevNotAfter = prev.fingerprint, prev.notAfter
	want := expected("certbot-e2e", c, at, "test.example", "www.test.example")
	if !equal(got, want) {
		t.Fatalf("InfluxDB holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	lifetime := int64(leaf.NotAfter.Sub(leaf.NotBefore) / time.Second)
	if !strings.Contains(got[0], fmt.Sprintf("lifetime=%di", lifetime)) || lifetime <= 0 {
		t.Errorf("lifetime %d of the issued certificate not in %q", lifetime, got[0])
	}
}
