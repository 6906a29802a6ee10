package k8s

import (
	"context"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/discovery"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/duration"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/plugin"
)

const nobodyToken = "certexpiry-nobody-token"

// cluster is one real API server with the shipped manifests applied, test pods, and TLS
// servers on the pods' loopback IPs.
type cluster struct {
	api     *testenv.KubeAPI
	admin   kubernetes.Interface
	saToken string // token of the shipped ServiceAccount: only the shipped RBAC applies
	port    int    // every pod serves on this port
	caFile  string
	good    *testcerts.Leaf
	expired *testcerts.Leaf
}

func startCluster(t *testing.T) *cluster {
	api := testenv.StartKubeAPI(t, testenv.KubeToken{Token: nobodyToken, User: "nobody"})
	c := &cluster{api: api, admin: api.AdminClient()}
	applyManifests(t, api, shippedManifests(t)...)
	c.saToken = serviceAccountToken(t, c.admin)

	now := time.Now()
	root, err := testcerts.NewCA("Test Root", now.Add(-24*time.Hour), now.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c.caFile = t.TempDir() + "/ca.pem"
	if err := writeFile(c.caFile, root.CertPEM()); err != nil {
		t.Fatal(err)
	}
	opts := testcerts.Options{DNSNames: []string{"shop.test", "www.shop.test"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(60 * 24 * time.Hour)}
	if c.good, err = root.Issue(opts); err != nil {
		t.Fatal(err)
	}
	opts.NotBefore, opts.NotAfter = now.Add(-90*24*time.Hour), now.Add(-24*time.Hour)
	if c.expired, err = root.Issue(opts); err != nil {
		t.Fatal(err)
	}
	first, err := testcerts.ServeLeaf("127.0.0.11:0", c.good)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Close() })
	c.port = first.Port()
	return c
}

// plugin returns an initialised and started plugin for the shop pods.
func (c *cluster) plugin(t *testing.T, kcfg discovery.Config, log *logger) *plugin.CertExpiry {
	t.Helper()
	p := plugin.New()
	p.Log = log
	p.Domains = []string{"shop.test", "www.shop.test"}
	p.Ports = []int{c.port}
	p.TLSCA = c.caFile
	p.Timeout = duration.Duration(5 * time.Second)
	p.Kubernetes = &kcfg
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(&acc{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

func gather(t *testing.T, p *plugin.CertExpiry) *acc {
	t.Helper()
	a := &acc{}
	if err := p.Gather(a); err != nil {
		t.Fatal(err)
	}
	if len(a.Errors()) > 0 {
		t.Fatalf("gather errors: %v", a.Errors())
	}
	return a
}

// discoveryRow returns the single cert_expiry_discovery row of a gather.
func discoveryRow(t *testing.T, a *acc) row {
	t.Helper()
	rows := a.Measurement(plugin.DiscoveryMeasurement)
	if len(rows) != 1 {
		t.Fatalf("%d discovery rows: %v", len(rows), rows)
	}
	return rows[0]
}

// wantRows is the cert_expiry rows expected for pods (name@ip on node → status), two domains each.
func (c *cluster) wantRows(pods ...string) []string {
	var out []string
	for _, p := range pods {
		// "web-0@127.0.0.11/node-a=valid"
		name, rest, _ := strings.Cut(p, "@")
		ip, rest, _ := strings.Cut(rest, "/")
		node, status, _ := strings.Cut(rest, "=")
		code := map[string]string{"valid": "0", "expired": "1"}[status]
		for _, d := range []string{"shop.test", "www.shop.test"} {
			out = append(out, "address="+ip+",domain="+d+",namespace=shop,node="+node+",pod="+name+",port="+strconv.Itoa(c.port)+",source=kubernetes,status="+status+" status_code="+code)
		}
	}
	return out
}

func fieldsWithout(f map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(f))
	for k, v := range f {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

func counts(pods, targets, probes int64, synced bool, skipped map[string]int64) map[string]any {
	f := map[string]any{
		"pods": pods, "targets": targets, "probes": probes, "domains": int64(2), "synced": synced,
		"skipped_terminating": int64(0), "skipped_finished": int64(0), "skipped_no_ip": int64(0),
		"skipped_not_ready": int64(0), "skipped_no_port": int64(0), "skipped_duplicate_address": int64(0),
	}
	for k, v := range skipped {
		f["skipped_"+k] = v
	}
	return f
}

// TestKubernetesDiscoveryOnRealAPIServer runs the plugin against a real kube-apiserver + etcd,
// authenticated as the shipped ServiceAccount (only the shipped RBAC manifest grants it
// anything), with real TLS servers on the pods' IPs. One replica serves an expired certificate.
func TestKubernetesDiscoveryOnRealAPIServer(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	createNamespace(t, c.admin, "shop")
	createNamespace(t, c.admin, "other")
	shop := map[string]string{"app": "shop"}
	serve(t, "127.0.0.12", c.port, c.good)
	serve(t, "127.0.0.13", c.port, c.expired)
	serve(t, "127.0.0.14", c.port, c.good)
	serve(t, "127.0.0.16", c.port, c.good)
	serve(t, "127.0.0.17", c.port, c.good)
	serve(t, "127.0.0.18", c.port, c.good)
	for _, p := range []podSpec{
		{ns: "shop", name: "web-0", node: "node-a", labels: shop, ip: "127.0.0.11", ready: true},
		{ns: "shop", name: "web-1", node: "node-b", labels: shop, ip: "127.0.0.12", ready: true},
		{ns: "shop", name: "web-2", node: "node-b", labels: shop, ip: "127.0.0.13", ready: true}, // the bad replica
		{ns: "shop", name: "web-3", node: "node-a", labels: shop, ip: "127.0.0.14", ready: false},
		{ns: "shop", name: "web-4", node: "node-a", labels: shop, ready: false},
		{ns: "shop", name: "db-0", node: "node-a", labels: map[string]string{"app": "db"}, ip: "127.0.0.15", ready: true},
		{ns: "other", name: "web-9", node: "node-a", labels: shop, ip: "127.0.0.16", ready: true},
	} {
		createPod(t, c.admin, p)
	}

	t.Run("forbidden without the RBAC binding", func(t *testing.T) {
		log := &logger{}
		p := c.plugin(t, discovery.Config{
			KubeConfig:  c.api.Kubeconfig(nobodyToken, "nobody"),
			Namespaces:  []string{"shop"},
			SyncTimeout: duration.Duration(3 * time.Second),
		}, log)
		// The reflector first tries to stream the list with a WATCH, then falls back to a
		// LIST: both are refused, each text is reported once.
		forbidden := func(verb string) string {
			return `pods is forbidden: User "nobody" cannot ` + verb + ` resource "pods" in API group "" in the namespace "shop": grant list and watch on this resource to the plugin's identity (deploy/kubernetes/rbac.yaml)`
		}
		wantErr := "pods in namespace shop: " + forbidden("list") + "; " + forbidden("watch")
		for range 3 {
			a := gather(t, p)
			if rows := certRows(a); rows != nil {
				t.Fatalf("rows without access: %v", rows)
			}
			d := discoveryRow(t, a)
			want := counts(0, 0, 0, false, nil)
			want["error"] = wantErr
			if got := fieldsWithout(d.Fields, "api_requests"); !reflect.DeepEqual(got, want) {
				t.Fatalf("discovery fields\n got %v\nwant %v", got, want)
			}
		}
		wantLog := []string{
			"E! kubernetes: watching pods in namespace shop: " + forbidden("list") + " (retrying with back-off; targets come from the last known state)",
			"E! kubernetes: watching pods in namespace shop: " + forbidden("watch") + " (retrying with back-off; targets come from the last known state)",
		}
		got := log.matching("E!")
		sort.Strings(got)
		if !reflect.DeepEqual(got, wantLog) {
			t.Fatalf("error log (each text once, not per retry or gather):\n got %q\nwant %q", got, wantLog)
		}
		if got := log.matching("W!"); len(got) != 1 || !strings.HasPrefix(got[0], "W! kubernetes: pod list not complete after waiting up to 3s: no pod targets until it is (pods in namespace shop: pods is forbidden") {
			t.Fatalf("warnings %q", got)
		}
	})

	t.Run("node scope via $KUBECONFIG and context", func(t *testing.T) {
		t.Setenv("KUBECONFIG", c.api.Kubeconfig(c.saToken, "sa"))
		t.Setenv("NODE_NAME", "node-b")
		p := c.plugin(t, discovery.Config{KubeContext: "sa", Scope: "node", LabelSelector: "app=shop"}, &logger{})
		a := gather(t, p)
		if got, want := certRows(a), c.wantRows("web-1@127.0.0.12/node-b=valid", "web-2@127.0.0.13/node-b=expired"); !reflect.DeepEqual(got, want) {
			t.Fatalf("rows\n got %q\nwant %q", got, want)
		}
		d := discoveryRow(t, a)
		if !reflect.DeepEqual(d.Tags, map[string]string{"source": "kubernetes", "scope": "node", "node": "node-b"}) {
			t.Fatalf("tags %v", d.Tags)
		}
	})

	log := &logger{}
	p := c.plugin(t, discovery.Config{
		KubeConfig:    c.api.Kubeconfig(c.saToken, "sa"),
		Namespaces:    []string{"shop"},
		LabelSelector: "app=shop",
	}, log)

	t.Run("first gather finds the bad replica", func(t *testing.T) {
		a := gather(t, p)
		want := c.wantRows("web-0@127.0.0.11/node-a=valid", "web-1@127.0.0.12/node-b=valid", "web-2@127.0.0.13/node-b=expired")
		if got := certRows(a); !reflect.DeepEqual(got, want) {
			t.Fatalf("rows\n got %q\nwant %q", got, want)
		}
		d := discoveryRow(t, a)
		wantFields := counts(5, 3, 6, true, map[string]int64{"not_ready": 1, "no_ip": 1})
		if got := fieldsWithout(d.Fields, "api_requests"); !reflect.DeepEqual(got, wantFields) {
			t.Fatalf("discovery fields\n got %v\nwant %v", got, wantFields)
		}
	})

	t.Run("API requests: the initial list (streamed as one watch, or LIST + WATCH), then none per gather", func(t *testing.T) {
		before := discoveryRow(t, gather(t, p)).Fields["api_requests"].(int64)
		for range 5 {
			gather(t, p)
		}
		after := discoveryRow(t, gather(t, p)).Fields["api_requests"].(int64)
		if after != before || before > 2 {
			t.Fatalf("api_requests %d before and %d after 6 gathers; want at most 2 (LIST + WATCH) and no growth", before, after)
		}
	})

	t.Run("next gathers follow readiness, deletion and new pods", func(t *testing.T) {
		changeStatus(t, c.admin, "shop", "web-3", "127.0.0.14", true)
		changeStatus(t, c.admin, "shop", "web-1", "127.0.0.12", false)
		// Without a kubelet a deleted pod stays terminating (its grace period never ends):
		// skipped as terminating. Deleted with no grace period, it is gone at once.
		if err := c.admin.CoreV1().Pods("shop").Delete(ctx, "web-0", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := c.admin.CoreV1().Pods("shop").Delete(ctx, "web-4", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); err != nil {
			t.Fatal(err)
		}
		createPod(t, c.admin, podSpec{ns: "shop", name: "web-5", node: "node-b", labels: shop, ip: "127.0.0.17", ready: true})
		want := c.wantRows("web-2@127.0.0.13/node-b=expired", "web-3@127.0.0.14/node-a=valid", "web-5@127.0.0.17/node-b=valid")
		var a *acc
		eventually(t, "a gather shows web-2, web-3 and web-5", func() bool {
			a = gather(t, p)
			return reflect.DeepEqual(certRows(a), want)
		})
		wantFields := counts(5, 3, 6, true, map[string]int64{"not_ready": 1, "terminating": 1})
		if got := fieldsWithout(discoveryRow(t, a).Fields, "api_requests"); !reflect.DeepEqual(got, wantFields) {
			t.Fatalf("discovery fields\n got %v\nwant %v", got, wantFields)
		}
	})

	t.Run("ingress TLS hosts join the domains (shipped ingress RBAC)", func(t *testing.T) {
		ing := func(name string, hosts ...string) *networkingv1.Ingress {
			return &networkingv1.Ingress{
				ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
				Spec: networkingv1.IngressSpec{
					TLS:            []networkingv1.IngressTLS{{Hosts: hosts, SecretName: "shop-tls"}},
					DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "shop", Port: networkingv1.ServiceBackendPort{Number: 443}}},
				},
			}
		}
		if _, err := c.admin.NetworkingV1().Ingresses("shop").Create(ctx, ing("shop", "www.shop.test", "*.shop.test", "old.shop.test"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		ip := c.plugin(t, discovery.Config{
			KubeConfig:     c.api.Kubeconfig(c.saToken, "sa"),
			Namespaces:     []string{"shop"},
			LabelSelector:  "app=shop",
			IngressDomains: true,
			IgnoreDomains:  []string{`old\..*`},
		}, &logger{})
		// c.plugin configures shop.test and www.shop.test; the Ingress adds www.shop.test
		// (already there), a wildcard (no SNI name) and an ignored host: nothing new.
		a := gather(t, ip)
		want := c.wantRows("web-2@127.0.0.13/node-b=expired", "web-3@127.0.0.14/node-a=valid", "web-5@127.0.0.17/node-b=valid")
		if got := certRows(a); !reflect.DeepEqual(got, want) {
			t.Fatalf("rows\n got %q\nwant %q", got, want)
		}
		if _, err := c.admin.NetworkingV1().Ingresses("shop").Create(ctx, ing("api", "api.shop.test"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// The new host is probed on every pod; the pods' certificate does not cover it.
		p := strconv.Itoa(c.port)
		for _, pod := range []string{"web-2@127.0.0.13/node-b", "web-3@127.0.0.14/node-a", "web-5@127.0.0.17/node-b"} {
			name, rest, _ := strings.Cut(pod, "@")
			addr, node, _ := strings.Cut(rest, "/")
			want = append(want, "address="+addr+",domain=api.shop.test,namespace=shop,node="+node+",pod="+name+",port="+p+",source=kubernetes,status=not_found status_code=3")
		}
		sort.Strings(want)
		eventually(t, "api.shop.test is probed on every pod", func() bool {
			a = gather(t, ip)
			return reflect.DeepEqual(certRows(a), want)
		})
		if d := discoveryRow(t, a); d.Fields["domains"] != int64(3) || d.Fields["probes"] != int64(9) {
			t.Fatalf("discovery fields %v", d.Fields)
		}
	})

	t.Run("dual-stack pod: one target per IP family", func(t *testing.T) {
		serve(t, "127.0.0.19", c.port, c.good)
		serve(t, "::1", c.port, c.expired)
		created, err := c.admin.CoreV1().Pods("shop").Create(ctx, podSpec{ns: "shop", name: "dual-0", node: "node-a", labels: map[string]string{"app": "dual"}}.pod(), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		created.Status.Phase = corev1.PodRunning
		created.Status.PodIP = "127.0.0.19"
		created.Status.PodIPs = []corev1.PodIP{{IP: "127.0.0.19"}, {IP: "::1"}}
		created.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		if _, err := c.admin.CoreV1().Pods("shop").UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		dp := c.plugin(t, discovery.Config{KubeConfig: c.api.Kubeconfig(c.saToken, "sa"), Namespaces: []string{"shop"}, LabelSelector: "app=dual"}, &logger{})
		a := gather(t, dp)
		p := strconv.Itoa(c.port)
		want := []string{
			"address=127.0.0.19,domain=shop.test,namespace=shop,node=node-a,pod=dual-0,port=" + p + ",source=kubernetes,status=valid status_code=0",
			"address=127.0.0.19,domain=www.shop.test,namespace=shop,node=node-a,pod=dual-0,port=" + p + ",source=kubernetes,status=valid status_code=0",
			"address=::1,domain=shop.test,namespace=shop,node=node-a,pod=dual-0,port=" + p + ",source=kubernetes,status=expired status_code=1",
			"address=::1,domain=www.shop.test,namespace=shop,node=node-a,pod=dual-0,port=" + p + ",source=kubernetes,status=expired status_code=1",
		}
		if got := certRows(a); !reflect.DeepEqual(got, want) {
			t.Fatalf("rows\n got %q\nwant %q", got, want)
		}
	})

	t.Run("rejected token", func(t *testing.T) {
		log := &logger{}
		rp := c.plugin(t, discovery.Config{
			KubeConfig:  c.api.Kubeconfig("revoked-or-expired", "bad"),
			Namespaces:  []string{"shop"},
			SyncTimeout: duration.Duration(2 * time.Second),
		}, log)
		d := discoveryRow(t, gather(t, rp))
		wantErr := "pods in namespace shop: Unauthorized: the API server rejected the credentials (expired or revoked token?)"
		if d.Fields["error"] != wantErr || d.Fields["synced"] != false {
			t.Fatalf("discovery fields %v\nwant error %q", d.Fields, wantErr)
		}
		want := []string{"E! kubernetes: watching pods in namespace shop: Unauthorized: the API server rejected the credentials (expired or revoked token?) (retrying with back-off; targets come from the last known state)"}
		if got := log.matching("E!"); !reflect.DeepEqual(got, want) {
			t.Fatalf("log %q", got)
		}
	})

	t.Run("API server restart: gathers report from the cache, then the watch resumes", func(t *testing.T) {
		want := c.wantRows("web-2@127.0.0.13/node-b=expired", "web-3@127.0.0.14/node-a=valid", "web-5@127.0.0.17/node-b=valid")
		c.api.StopAPI()
		var d row
		eventually(t, "the outage shows in cert_expiry_discovery", func() bool {
			a := gather(t, p)
			if got := certRows(a); !reflect.DeepEqual(got, want) {
				t.Fatalf("rows during the outage\n got %q\nwant %q", got, want)
			}
			d = discoveryRow(t, a)
			return d.Fields["error"] != nil
		})
		if e := d.Fields["error"].(string); !strings.HasPrefix(e, "pods in namespace shop: ") || !strings.Contains(e, "connection refused") || d.Fields["synced"] != true {
			t.Fatalf("discovery row during the outage: %v", d.Fields)
		}

		c.api.StartAPI()
		createPod(t, c.admin, podSpec{ns: "shop", name: "web-6", node: "node-a", labels: shop, ip: "127.0.0.18", ready: true})
		want = c.wantRows("web-2@127.0.0.13/node-b=expired", "web-3@127.0.0.14/node-a=valid", "web-5@127.0.0.17/node-b=valid", "web-6@127.0.0.18/node-a=valid")
		var a *acc
		eventually(t, "web-6 appears after the restart", func() bool {
			a = gather(t, p)
			return reflect.DeepEqual(certRows(a), want)
		})
		eventually(t, "the error clears", func() bool { return discoveryRow(t, gather(t, p)).Fields["error"] == nil })
		t.Logf("plugin log:\n%s", strings.Join(log.all(), "\n"))
		errs := log.matching("E!")
		if len(errs) == 0 || len(errs) > 3 {
			t.Fatalf("errors logged during the outage (want each distinct error once): %q", errs)
		}
		if got := log.matching("I! kubernetes: watching pods in namespace shop: API reachable again"); len(got) != 1 {
			t.Fatalf("recovery logged %d times; log:\n%s", len(got), strings.Join(log.all(), "\n"))
		}
	})
}
