package testenv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// KubeToken is a static bearer token the API server accepts (its --token-auth-file).
type KubeToken struct {
	Token  string
	User   string
	Groups []string
}

// KubeAdminToken authenticates as "admin" in system:masters (every permission).
const KubeAdminToken = "certexpiry-admin-token"

// KubeAPI is a real kube-apiserver backed by a real etcd, both on loopback, with RBAC
// authorization and static-token authentication. There is no kubelet and no controller
// manager: pods stay as the test writes them, status included (through pods/status).
type KubeAPI struct {
	// URL is https://127.0.0.1:PORT; the port stays the same across Restart.
	URL string
	// CAFile is the PEM certificate of the API server's self-signed serving certificate.
	CAFile string
	// Dir holds the data, keys and logs.
	Dir string

	t       testing.TB
	bin     string
	args    []string
	etcd    *Process
	api     *Process
	caPEM   []byte
	etcdURL string
}

// StartKubeAPI starts etcd and kube-apiserver (built by test/tools/build.sh) and waits until
// /readyz answers 200, RBAC bootstrap roles included. tokens are accepted besides the admin
// token. Both processes stop when the test ends. Skips unless integration tests are on.
func StartKubeAPI(t testing.TB, tokens ...KubeToken) *KubeAPI {
	t.Helper()
	etcdBin := Binary(t, "etcd")
	apiBin := Binary(t, "kube-apiserver")
	dir := t.TempDir()
	k := &KubeAPI{t: t, bin: apiBin, Dir: dir}

	clientPort, peerPort := FreePort(t), FreePort(t)
	k.etcdURL = "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	k.etcd = Start(t, etcdBin,
		"--name", "default",
		"--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", k.etcdURL, "--advertise-client-urls", k.etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "default="+peerURL,
		"--unsafe-no-fsync", "--log-level", "warn")
	WaitHTTP(t, k.etcd, k.etcdURL+"/health", http.StatusOK, 30*time.Second)

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	saKey, saPub := filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	writePEM(t, saKey, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))
	writePEM(t, saPub, "PUBLIC KEY", pub)

	var csv strings.Builder
	for _, tok := range append([]KubeToken{{Token: KubeAdminToken, User: "admin", Groups: []string{"system:masters"}}}, tokens...) {
		// Format: token,user,uid,"group1,group2"
		fmt.Fprintf(&csv, "%s,%s,%s,%q\n", tok.Token, tok.User, tok.User, strings.Join(tok.Groups, ","))
	}
	tokenFile := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	port := FreePort(t)
	certDir := filepath.Join(dir, "certs")
	k.URL = "https://127.0.0.1:" + strconv.Itoa(port)
	k.CAFile = filepath.Join(certDir, "apiserver.crt")
	k.args = []string{
		"--etcd-servers", k.etcdURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(port),
		"--cert-dir", certDir,
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-account-key-file", saPub,
		"--service-account-signing-key-file", saKey,
		"--token-auth-file", tokenFile,
		"--authorization-mode", "RBAC",
		"--service-cluster-ip-range", "10.0.0.0/24",
		"--endpoint-reconciler-type", "none",
		"--disable-admission-plugins", "ServiceAccount",
		"--profiling=false",
	}
	k.startAPI()
	return k
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (k *KubeAPI) startAPI() {
	k.t.Helper()
	k.api = Start(k.t, k.bin, k.args...)
	// The serving certificate is generated at first start and reused afterwards.
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := os.ReadFile(k.CAFile)
		if err == nil && len(b) > 0 {
			k.caPEM = b
			break
		}
		if k.api.Exited() || time.Now().After(deadline) {
			k.t.Fatalf("testenv: kube-apiserver wrote no %s", k.CAFile)
		}
		time.Sleep(50 * time.Millisecond)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(k.caPEM)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if err := waitHTTP(k.api, k.URL+"/readyz", http.StatusOK, 90*time.Second, client); err != nil {
		k.t.Fatal(err)
	}
}

// StopAPI stops kube-apiserver only (etcd keeps the data), as in an API server outage.
func (k *KubeAPI) StopAPI() { k.api.Stop() }

// StartAPI starts kube-apiserver again on the same port with the same certificate and data,
// and waits until it is ready.
func (k *KubeAPI) StartAPI() {
	k.t.Helper()
	k.startAPI()
}

// RESTConfig returns a client configuration for the given bearer token.
func (k *KubeAPI) RESTConfig(token string) *rest.Config {
	return &rest.Config{
		Host:            k.URL,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: k.caPEM},
		QPS:             -1, // no client-side throttling: tests create thousands of objects
	}
}

// AdminClient returns a clientset authenticated as the admin.
func (k *KubeAPI) AdminClient() kubernetes.Interface {
	k.t.Helper()
	c, err := kubernetes.NewForConfig(k.RESTConfig(KubeAdminToken))
	if err != nil {
		k.t.Fatal(err)
	}
	return c
}

// Kubeconfig writes a kubeconfig file for token, with one context named context, and returns
// its path.
func (k *KubeAPI) Kubeconfig(token, context string) string {
	k.t.Helper()
	caFile, err := filepath.Abs(k.CAFile)
	if err != nil {
		k.t.Fatal(err)
	}
	doc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %[1]q
    certificate-authority: %[2]q
users:
- name: %[4]s
  user:
    token: %[3]q
contexts:
- name: %[4]s
  context:
    cluster: test
    user: %[4]s
current-context: %[4]s
`, k.URL, caFile, token, context)
	path := filepath.Join(k.t.TempDir(), "kubeconfig-"+context)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		k.t.Fatal(err)
	}
	return path
}
