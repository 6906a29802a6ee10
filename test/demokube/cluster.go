package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// adminToken authenticates the demo itself (system:masters) through --token-auth-file. The
// plugin never uses it: it gets a token of the shipped ServiceAccount.
const adminToken = "certexpiry-demo-admin"

// cluster is a real kube-apiserver backed by a real etcd, both on loopback, with RBAC
// authorization. There is no kubelet and no controller manager: the demo writes the pods'
// status itself (pods/status), as a kubelet would.
type cluster struct {
	url    string
	caPEM  []byte
	caFile string
	etcd   *process
	api    *process
	admin  kubernetes.Interface
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startCluster starts etcd and kube-apiserver with their data in dir and waits until the API
// server is ready (/readyz 200, RBAC bootstrap roles included). Stop it with stop, also on error.
func startCluster(ctx context.Context, dir, etcdBin, apiBin string) (c *cluster, err error) {
	c = &cluster{}
	defer func() {
		if err != nil {
			c.stop()
			c = nil
		}
	}()
	var ports [3]int
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return c, err
		}
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	c.etcd, err = startProcess(dir, "etcd", etcdBin,
		"--name", "default", "--data-dir", filepath.Join(dir, "etcd-data"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "default="+peerURL,
		"--unsafe-no-fsync", "--log-level", "warn")
	if err != nil {
		return c, err
	}
	if err = waitHTTP(ctx, c.etcd, etcdURL+"/health", nil, 30*time.Second); err != nil {
		return c, err
	}

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return c, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return c, err
	}
	saKey, saPub, tokens := filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub"), filepath.Join(dir, "tokens.csv")
	for path, body := range map[string][]byte{
		saKey:  pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		saPub:  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
		tokens: []byte(adminToken + `,admin,admin,"system:masters"` + "\n"),
	} {
		if err = os.WriteFile(path, body, 0o600); err != nil {
			return c, err
		}
	}
	certDir := filepath.Join(dir, "apiserver-certs")
	c.url = "https://127.0.0.1:" + strconv.Itoa(ports[2])
	c.caFile = filepath.Join(certDir, "apiserver.crt")
	c.api, err = startProcess(dir, "kube-apiserver", apiBin,
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(ports[2]),
		"--cert-dir", certDir,
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-account-key-file", saPub,
		"--service-account-signing-key-file", saKey,
		"--token-auth-file", tokens,
		"--authorization-mode", "RBAC",
		"--service-cluster-ip-range", "10.0.0.0/24",
		"--endpoint-reconciler-type", "none",
		"--disable-admission-plugins", "ServiceAccount",
		"--profiling=false")
	if err != nil {
		return c, err
	}
	// The API server writes its self-signed serving certificate at start; it is the CA of
	// every client configuration.
	deadline := time.Now().Add(60 * time.Second)
	for len(c.caPEM) == 0 {
		c.caPEM, _ = os.ReadFile(c.caFile)
		if len(c.caPEM) > 0 {
			break
		}
		if c.api.exited() || time.Now().After(deadline) {
			return c, fmt.Errorf("kube-apiserver wrote no %s; its log ends:\n%s", c.caFile, c.api.logTail())
		}
		select {
		case <-ctx.Done():
			return c, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err = waitHTTP(ctx, c.api, c.url+"/readyz", c.caPEM, 120*time.Second); err != nil {
		return c, err
	}
	c.admin, err = kubernetes.NewForConfig(c.restConfig(adminToken))
	return c, err
}

func (c *cluster) restConfig(token string) *rest.Config {
	return &rest.Config{Host: c.url, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: c.caPEM}}
}

// stop stops the API server, then etcd.
func (c *cluster) stop() {
	for _, p := range []*process{c.api, c.etcd} {
		if p != nil {
			p.stop()
		}
	}
}

// applyManifests creates every object of the YAML files (multi-document). It knows the kinds
// the plugin's identity is made of: Namespace, ServiceAccount, ClusterRole(Binding),
// Role(Binding).
func (c *cluster) applyManifests(ctx context.Context, files ...string) ([]string, error) {
	var created []string
	opts := metav1.CreateOptions{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return created, err
		}
		dec := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := dec.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return created, fmt.Errorf("%s: %w", f, err)
			}
			if len(bytes.TrimSpace(stripComments(doc))) == 0 {
				continue
			}
			obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
			if err != nil {
				return created, fmt.Errorf("%s: %w", f, err)
			}
			var name string
			switch o := obj.(type) {
			case *corev1.Namespace:
				_, err = c.admin.CoreV1().Namespaces().Create(ctx, o, opts)
				name = "Namespace/" + o.Name
			case *corev1.ServiceAccount:
				_, err = c.admin.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, o, opts)
				name = "ServiceAccount/" + o.Namespace + "/" + o.Name
			case *rbacv1.ClusterRole:
				_, err = c.admin.RbacV1().ClusterRoles().Create(ctx, o, opts)
				name = "ClusterRole/" + o.Name
			case *rbacv1.ClusterRoleBinding:
				_, err = c.admin.RbacV1().ClusterRoleBindings().Create(ctx, o, opts)
				name = "ClusterRoleBinding/" + o.Name
			case *rbacv1.Role:
				_, err = c.admin.RbacV1().Roles(o.Namespace).Create(ctx, o, opts)
				name = "Role/" + o.Namespace + "/" + o.Name
			case *rbacv1.RoleBinding:
				_, err = c.admin.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, opts)
				name = "RoleBinding/" + o.Namespace + "/" + o.Name
			default:
				return created, fmt.Errorf("%s: the demo does not apply %T", f, obj)
			}
			if err != nil {
				return created, fmt.Errorf("%s: creating %s: %w", filepath.Base(f), name, err)
			}
			created = append(created, name)
		}
	}
	return created, nil
}

// stripComments drops YAML comment lines, so that a document of comments alone counts as empty.
func stripComments(doc []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(append(out, line...), '\n')
		}
	}
	return out
}

// serviceAccountToken asks the API server for a token of the ServiceAccount (a TokenRequest,
// what the kubelet mounts into a pod), valid for an hour.
func (c *cluster) serviceAccountToken(ctx context.Context, ns, name string) (string, error) {
	exp := int64(3600)
	tr, err := c.admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return tr.Status.Token, nil
}

// writeKubeconfig writes a kubeconfig for token to path.
func (c *cluster) writeKubeconfig(path, user, token string) error {
	doc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: demo
  cluster:
    server: %q
    certificate-authority: %q
users:
- name: %s
  user:
    token: %q
contexts:
- name: demo
  context:
    cluster: demo
    user: %s
current-context: demo
`, c.url, c.caFile, user, token, user)
	return os.WriteFile(path, []byte(doc), 0o600)
}

// apiCounts is what the API server itself counts about pod reads (its /metrics): LIST and
// WATCH requests completed, and WATCH requests open now. A gather that called the API would
// show here.
type apiCounts struct {
	List, Watch, OpenWatches int64
}

func (a apiCounts) String() string {
	return fmt.Sprintf("LIST pods: %d, WATCH pods completed: %d, WATCH pods open: %d", a.List, a.Watch, a.OpenWatches)
}

var (
	metricLine = regexp.MustCompile(`^(apiserver_request_total|apiserver_longrunning_requests)\{(.*)\} (\d+)$`)
	verbLabel  = regexp.MustCompile(`(?:^|,)verb="([A-Z]+)"`)
)

// podReads reads the API server's counters of pod LIST and WATCH requests (subresources such
// as pods/status, which the demo writes, are left out).
func (c *cluster) podReads(ctx context.Context) (apiCounts, error) {
	raw, err := c.admin.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return apiCounts{}, err
	}
	var n apiCounts
	for _, line := range strings.Split(string(raw), "\n") {
		m := metricLine.FindStringSubmatch(line)
		if m == nil || !strings.Contains(m[2], `resource="pods"`) || strings.Contains(m[2], `subresource="`) && !strings.Contains(m[2], `subresource=""`) {
			continue
		}
		verb := verbLabel.FindStringSubmatch(m[2])
		if verb == nil {
			continue
		}
		v, _ := strconv.ParseInt(m[3], 10, 64)
		switch {
		case m[1] == "apiserver_request_total" && verb[1] == "LIST":
			n.List += v
		case m[1] == "apiserver_request_total" && verb[1] == "WATCH":
			n.Watch += v
		case m[1] == "apiserver_longrunning_requests" && verb[1] == "WATCH":
			n.OpenWatches += v
		}
	}
	return n, nil
}
