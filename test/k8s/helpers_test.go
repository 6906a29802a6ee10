// Package k8s holds the integration tests of Kubernetes discovery against a real
// kube-apiserver and etcd on loopback (internal/testenv), and the 10,000-pod scale benchmark.
package k8s

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testwait"
)

// acc records what the plugin emits.
type acc = metrictest.Accumulator

// row is one metric the plugin emitted.
type row = metrictest.Row

// certRows renders the cert_expiry rows as sorted "tags status_code=N" lines.
func certRows(a *acc) []string {
	var out []string
	for _, r := range a.Measurement("cert_expiry") {
		out = append(out, metrictest.TagLine(r.Tags)+" status_code="+strconv.FormatInt(r.Fields["status_code"].(int64), 10))
	}
	sort.Strings(out)
	return out
}

// logger is a telegraf.Logger that records lines as "E! text".
type logger struct {
	mu    sync.Mutex
	lines []string
}

func (l *logger) add(level, s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level+" "+s)
}
func (l *logger) Level() telegraf.LogLevel  { return telegraf.Debug }
func (l *logger) AddAttribute(string, any)  {}
func (l *logger) Errorf(f string, a ...any) { l.add("E!", fmt.Sprintf(f, a...)) }
func (l *logger) Error(a ...any)            { l.add("E!", fmt.Sprint(a...)) }
func (l *logger) Warnf(f string, a ...any)  { l.add("W!", fmt.Sprintf(f, a...)) }
func (l *logger) Warn(a ...any)             { l.add("W!", fmt.Sprint(a...)) }
func (l *logger) Infof(f string, a ...any)  { l.add("I!", fmt.Sprintf(f, a...)) }
func (l *logger) Info(a ...any)             { l.add("I!", fmt.Sprint(a...)) }
func (l *logger) Debugf(f string, a ...any) { l.add("D!", fmt.Sprintf(f, a...)) }
func (l *logger) Debug(a ...any)            { l.add("D!", fmt.Sprint(a...)) }
func (l *logger) Tracef(f string, a ...any) { l.add("T!", fmt.Sprintf(f, a...)) }
func (l *logger) Trace(a ...any)            { l.add("T!", fmt.Sprint(a...)) }
func (l *logger) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}
func (l *logger) matching(prefix string) (out []string) {
	for _, line := range l.all() {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return out
}

// eventually polls cond until it holds: informers apply changes asynchronously. Each check
// may ask the API server or the plugin, hence the slower pace.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, what, 100*time.Millisecond, cond)
}

func repoPath(t testing.TB, rel string) string {
	return filepath.Join(testenv.RepoRoot(t), rel)
}

// applyManifests server-side applies every object of the YAML files (multi-document), in
// order, and returns them.
func applyManifests(t *testing.T, k *testenv.KubeAPI, files ...string) []*unstructured.Unstructured {
	t.Helper()
	var applied []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		applied = append(applied, k.Apply(t, filepath.Base(f), data)...)
	}
	return applied
}

// shippedManifests lists deploy/kubernetes/*.yaml in the order to apply them.
func shippedManifests(t *testing.T) []string {
	dir := repoPath(t, "deploy/kubernetes")
	var files []string
	for _, name := range []string{"namespace.yaml", "serviceaccount.yaml", "rbac.yaml", "rbac-ingress.yaml", "rbac-cert-manager.yaml", "configmap.yaml", "deployment.yaml", "daemonset.yaml"} {
		files = append(files, filepath.Join(dir, name))
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(matches) != len(files) {
		t.Fatalf("deploy/kubernetes holds %d manifests, the test knows %d: add the new one to shippedManifests", len(matches), len(files))
	}
	return files
}

// serviceAccountToken asks the API server for a token of the shipped ServiceAccount, the
// identity the Deployment and DaemonSet run as.
func serviceAccountToken(t *testing.T, admin kubernetes.Interface) string {
	t.Helper()
	tr, err := admin.CoreV1().ServiceAccounts("telegraf-certexpiry").CreateToken(context.Background(), "telegraf-certexpiry",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

func createNamespace(t *testing.T, c kubernetes.Interface, name string) {
	t.Helper()
	_, err := c.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// podSpec describes a test pod: where it runs and what its status says.
type podSpec struct {
	ns, name, node string
	labels         map[string]string
	ip             string // "" until the kubelet would have assigned one
	ready          bool
	httpsPort      int // container port named "https"; 0: none
}

func (p podSpec) pod() *corev1.Pod {
	c := corev1.Container{Name: "web", Image: "nginx"}
	if p.httpsPort != 0 {
		c.Ports = []corev1.ContainerPort{{Name: "https", ContainerPort: int32(p.httpsPort)}}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.ns, Name: p.name, Labels: p.labels},
		Spec:       corev1.PodSpec{NodeName: p.node, Containers: []corev1.Container{c}},
	}
}

// createPod creates the pod, then sets its status through pods/status as a kubelet would.
func createPod(t *testing.T, c kubernetes.Interface, p podSpec) {
	t.Helper()
	created, err := c.CoreV1().Pods(p.ns).Create(context.Background(), p.pod(), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setStatus(t, c, created, p.ip, p.ready)
}

func setStatus(t *testing.T, c kubernetes.Interface, pod *corev1.Pod, ip string, ready bool) {
	t.Helper()
	if err := updateStatus(c, pod, ip, ready); err != nil {
		t.Fatal(err)
	}
}

func updateStatus(c kubernetes.Interface, pod *corev1.Pod, ip string, ready bool) error {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	pod = pod.DeepCopy()
	pod.Status.Phase = corev1.PodRunning
	pod.Status.HostIP, pod.Status.HostIPs = "127.0.0.1", []corev1.HostIP{{IP: "127.0.0.1"}}
	pod.Status.PodIP, pod.Status.PodIPs = "", nil
	if ip != "" {
		pod.Status.PodIP, pod.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	}
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.Now()}}
	_, err := c.CoreV1().Pods(pod.Namespace).UpdateStatus(context.Background(), pod, metav1.UpdateOptions{})
	return err
}

func changeStatus(t *testing.T, c kubernetes.Interface, ns, name, ip string, ready bool) {
	t.Helper()
	pod, err := c.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setStatus(t, c, pod, ip, ready)
}

// servePods serves leaf on ip:port for each ip, all on one port as replicas of a Deployment do.
func serve(t *testing.T, ip string, port int, leaf *testcerts.Leaf) {
	t.Helper()
	srv, err := testcerts.ServeLeaf(net.JoinHostPort(ip, strconv.Itoa(port)), leaf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
}

func ptr[T any](v T) *T { return &v }

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }
