package plugin

import (
	"context"
	"net"
	"reflect"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/discovery"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
)

var k8sNow = time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)

// k8sPod is a ready pod with one IP, as a kubelet would report it.
func k8sPod(ns, name, node, ip string, ready bool) *corev1.Pod {
	status := corev1.ConditionTrue
	if !ready {
		status = corev1.ConditionFalse
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": "shop"}},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}},
		},
	}
	if ip != "" {
		p.Status.PodIP, p.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	}
	return p
}

// serveOnPort serves leaf on ip:port (the same port on every pod address, as a Deployment's
// replicas do).
func serveOnPort(t *testing.T, ip string, port int, leaf *testcerts.Leaf) {
	t.Helper()
	srv, err := testcerts.ServeLeaf(net.JoinHostPort(ip, strconv.Itoa(port)), leaf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
}

func withFakeClient(k *kubernetesSource, objs ...runtime.Object) *fake.Clientset {
	client := fake.NewClientset(objs...)
	k.newClient = func(*discovery.Settings, *atomic.Int64) (kubernetes.Interface, error) { return client, nil }
	return client
}

func discoveryRow(pods, targets, probes, domains int64, synced bool, skipped map[string]int64) map[string]any {
	f := map[string]any{
		"pods": pods, "targets": targets, "probes": probes, "domains": domains, "synced": synced, "api_requests": int64(0),
		"skipped_terminating": int64(0), "skipped_finished": int64(0), "skipped_no_ip": int64(0),
		"skipped_not_ready": int64(0), "skipped_no_port": int64(0), "skipped_duplicate_address": int64(0),
	}
	for k, v := range skipped {
		f["skipped_"+k] = v
	}
	return f
}

// TestGatherKubernetesPodsFindsTheBadReplica runs the whole plugin (Init, Start, Gather, Stop)
// on pods from client-go's fake clientset, each pod IP a loopback address with a real TLS
// listener. One replica serves an expired certificate: it must get its own row.
func TestGatherKubernetesPodsFindsTheBadReplica(t *testing.T) {
	root := must(testcerts.NewCA("Root", k8sNow.Add(-365*24*time.Hour), k8sNow.Add(3650*24*time.Hour)))
	good := must(root.Issue(testcerts.Options{DNSNames: []string{"shop.test"}, NotBefore: k8sNow.Add(-24 * time.Hour), NotAfter: k8sNow.Add(60 * 24 * time.Hour)}))
	expired := must(root.Issue(testcerts.Options{DNSNames: []string{"shop.test"}, NotBefore: k8sNow.Add(-90 * 24 * time.Hour), NotAfter: k8sNow.Add(-24 * time.Hour)}))

	first := must(testcerts.ServeLeaf("127.0.0.21:0", good))
	t.Cleanup(func() { first.Close() })
	port := first.Port()
	serveOnPort(t, "127.0.0.22", port, good)
	serveOnPort(t, "127.0.0.23", port, expired)

	c := New()
	c.now = func() time.Time { return k8sNow }
	c.Domains = []string{"shop.test"}
	c.Ports = []int{port}
	c.CAFile = writeFile(t, "ca.pem", root.CertPEM())
	c.Kubernetes = &discovery.Config{Namespaces: []string{"shop"}}
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	withFakeClient(c.kube,
		k8sPod("shop", "web-a", "node-1", "127.0.0.21", true),
		k8sPod("shop", "web-b", "node-2", "127.0.0.22", true),
		k8sPod("shop", "web-c", "node-2", "127.0.0.23", true),
		k8sPod("shop", "web-d", "node-1", "127.0.0.24", false),
		k8sPod("shop", "web-e", "", "", false),
		k8sPod("elsewhere", "x", "node-1", "127.0.0.25", true),
	)
	acc := &metrictest.Accumulator{}
	if err := c.Start(acc); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if err := c.Gather(acc); err != nil {
		t.Fatal(err)
	}
	if len(acc.Errors()) != 0 {
		t.Fatalf("errors: %v", acc.Errors())
	}

	disc := acc.Measurement(DiscoveryMeasurement)
	if len(disc) != 1 {
		t.Fatalf("%d discovery rows: %v", len(disc), disc)
	}
	wantTags := map[string]string{"source": "kubernetes", "scope": "cluster"}
	wantFields := discoveryRow(5, 3, 3, 1, true, map[string]int64{"not_ready": 1, "no_ip": 1})
	if !disc[0].Time.Equal(k8sNow) {
		t.Errorf("discovery row at %v, want the gather's time %v", disc[0].Time, k8sNow)
	}
	if !reflect.DeepEqual(disc[0].Tags, wantTags) || !reflect.DeepEqual(disc[0].Fields, wantFields) {
		t.Fatalf("discovery row\n got %v %v\nwant %v %v", disc[0].Tags, disc[0].Fields, wantTags, wantFields)
	}

	var got []string
	for _, r := range acc.Measurement(Measurement) {
		got = append(got, metrictest.TagLine(r.Tags)+" status_code="+strconv.FormatInt(r.Fields["status_code"].(int64), 10))
	}
	sort.Strings(got)
	p := strconv.Itoa(port)
	want := []string{
		"address=127.0.0.21,domain=shop.test,namespace=shop,node=node-1,pod=web-a,port=" + p + ",source=kubernetes,status=valid status_code=0",
		"address=127.0.0.22,domain=shop.test,namespace=shop,node=node-2,pod=web-b,port=" + p + ",source=kubernetes,status=valid status_code=0",
		"address=127.0.0.23,domain=shop.test,namespace=shop,node=node-2,pod=web-c,port=" + p + ",source=kubernetes,status=expired status_code=1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("cert_expiry rows\n got %q\nwant %q", got, want)
	}
}

func TestKubernetesConfigErrorsNameTheOption(t *testing.T) {
	c := New()
	c.Domains = []string{"shop.test"}
	c.Kubernetes = &discovery.Config{Scope: "nodes"}
	err := c.Init()
	if err == nil || err.Error() != `kubernetes.pod_scrape_scope: must be "cluster" or "node", got "nodes"` {
		t.Fatalf("Init: %v", err)
	}
}

func TestKubernetesNodeScopeTagsTheNode(t *testing.T) {
	t.Setenv(discovery.NodeNameEnv, "node-2")
	c := New()
	c.Domains = []string{"shop.test"}
	c.Kubernetes = &discovery.Config{Scope: "node"}
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	if c.kube.settings.FieldSelector != "spec.nodeName=node-2" {
		t.Fatalf("field selector %q", c.kube.settings.FieldSelector)
	}
	acc := &metrictest.Accumulator{}
	// Before Start (Telegraf's --test of a service input calls Gather only): no targets, and
	// the row says why.
	if ts := c.kube.targets(context.Background(), acc, now); ts != nil {
		t.Fatalf("targets before start: %v", ts)
	}
	rows := acc.Measurement(DiscoveryMeasurement)
	wantFields := discoveryRow(0, 0, 0, 0, false, nil)
	wantFields["error"] = "kubernetes discovery not started"
	if len(rows) != 1 || !reflect.DeepEqual(rows[0].Tags, map[string]string{"source": "kubernetes", "scope": "node", "node": "node-2"}) ||
		!reflect.DeepEqual(rows[0].Fields, wantFields) {
		t.Fatalf("rows %v", rows)
	}
}

func TestKubernetesStartWithoutClusterFails(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	c := New()
	c.Domains = []string{"shop.test"}
	c.Kubernetes = &discovery.Config{}
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	err := c.Start(&metrictest.Accumulator{})
	want := "kubernetes: no kube_config given and not running in a pod: unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"
	if err == nil || err.Error() != want {
		t.Fatalf("Start: %v\nwant %s", err, want)
	}
}
