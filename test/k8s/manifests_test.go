package k8s

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/influxdata/telegraf/plugins/parsers/influx"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/discovery"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/duration"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/plugin"
)

const ns = "telegraf-certexpiry"

// TestShippedManifests applies deploy/kubernetes server-side to a real API server (so every
// object is valid for it), then checks that the ServiceAccount gets exactly the access the
// plugin needs, that the Deployment and DaemonSet mount the configs where telegraf.conf looks
// for them, and that the plugin configs pass the plugin's own strict checks.
func TestShippedManifests(t *testing.T) {
	api := testenv.StartKubeAPI(t)
	applied := applyManifests(t, api, shippedManifests(t)...)
	var kinds []string
	for _, o := range applied {
		kinds = append(kinds, o.GetKind()+"/"+o.GetName())
	}
	wantKinds := []string{
		"Namespace/telegraf-certexpiry", "ServiceAccount/telegraf-certexpiry",
		"ClusterRole/telegraf-certexpiry-pods", "ClusterRoleBinding/telegraf-certexpiry-pods",
		"ClusterRole/telegraf-certexpiry-ingresses", "ClusterRoleBinding/telegraf-certexpiry-ingresses",
		"ClusterRole/telegraf-certexpiry-cert-manager", "ClusterRoleBinding/telegraf-certexpiry-cert-manager",
		"ConfigMap/telegraf-certexpiry", "Deployment/telegraf-certexpiry", "DaemonSet/telegraf-certexpiry",
	}
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Fatalf("applied %v\nwant %v", kinds, wantKinds)
	}
	// Applying again changes nothing and fails nothing (kubectl apply is re-run on upgrades).
	applyManifests(t, api, shippedManifests(t)...)

	admin := api.AdminClient()
	sa, err := kubernetes.NewForConfig(api.RESTConfig(serviceAccountToken(t, admin)))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("least privilege", func(t *testing.T) {
		for _, c := range []struct {
			group, resource, verb, namespace string
			allowed                          bool
		}{
			{"", "pods", "list", "", true},
			{"", "pods", "watch", "", true},
			{"", "pods", "list", "any-namespace", true},
			{"networking.k8s.io", "ingresses", "list", "", true},
			{"networking.k8s.io", "ingresses", "watch", "", true},
			{"", "pods", "get", "", false},
			{"", "pods", "delete", "", false},
			{"", "pods", "update", "", false},
			{"", "secrets", "list", "", false},
			{"", "secrets", "get", ns, false},
			{"", "nodes", "list", "", false},
			{"networking.k8s.io", "ingresses", "get", "", false},
			{"cert-manager.io", "certificates", "list", "", true},
			{"cert-manager.io", "certificates", "watch", "", true},
			{"cert-manager.io", "certificates", "get", "", false},
			{"cert-manager.io", "certificaterequests", "list", "", false},
			{"", "services", "list", "", false},
		} {
			r, err := sa.AuthorizationV1().SelfSubjectAccessReviews().Create(context.Background(), &authorizationv1.SelfSubjectAccessReview{
				Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
					Group: c.group, Resource: c.resource, Verb: c.verb, Namespace: c.namespace,
				}},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Status.Allowed != c.allowed {
				t.Errorf("%s %s.%s in %q: allowed=%v, want %v", c.verb, c.resource, c.group, c.namespace, r.Status.Allowed, c.allowed)
			}
		}
	})

	t.Run("workloads mount the configs where telegraf.conf points", func(t *testing.T) {
		ctx := context.Background()
		dep, err := admin.AppsV1().Deployments(ns).Get(ctx, "telegraf-certexpiry", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ds, err := admin.AppsV1().DaemonSets(ns).Get(ctx, "telegraf-certexpiry", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, pluginKey string
			spec            corev1.PodSpec
		}{
			{"deployment", "plugin-cluster.conf", dep.Spec.Template.Spec},
			{"daemonset", "plugin-node.conf", ds.Spec.Template.Spec},
		} {
			if c.spec.ServiceAccountName != "telegraf-certexpiry" {
				t.Errorf("%s: serviceAccountName %q", c.name, c.spec.ServiceAccountName)
			}
			mounts := map[string]string{}
			for _, m := range c.spec.Containers[0].VolumeMounts {
				mounts[m.Name] = m.MountPath
			}
			files := map[string]string{} // path in the container → ConfigMap key
			for _, v := range c.spec.Volumes {
				if v.ConfigMap == nil || v.ConfigMap.Name != "telegraf-certexpiry" {
					continue
				}
				for _, item := range v.ConfigMap.Items {
					files[mounts[v.Name]+"/"+item.Path] = item.Key
				}
			}
			want := map[string]string{"/etc/telegraf/telegraf.conf": "telegraf.conf", "/etc/telegraf-certexpiry/plugin.conf": c.pluginKey}
			if !reflect.DeepEqual(files, want) {
				t.Errorf("%s: config files %v, want %v", c.name, files, want)
			}
			if args := c.spec.Containers[0].Args; !reflect.DeepEqual(args, []string{"--config", "/etc/telegraf/telegraf.conf"}) {
				t.Errorf("%s: args %v", c.name, args)
			}
		}
		env := ds.Spec.Template.Spec.Containers[0].Env
		if len(env) != 1 || env[0].Name != "NODE_NAME" || env[0].ValueFrom == nil || env[0].ValueFrom.FieldRef == nil || env[0].ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
			t.Errorf("daemonset env %+v: want NODE_NAME from fieldRef spec.nodeName", env)
		}
	})

	t.Run("plugin configs pass the plugin's checks", func(t *testing.T) {
		cm, err := admin.CoreV1().ConfigMaps(ns).Get(context.Background(), "telegraf-certexpiry", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(cm.Data["telegraf.conf"], `command = ["/usr/local/bin/telegraf-certexpiry", "-config", "/etc/telegraf-certexpiry/plugin.conf", "-poll_interval_disabled"]`) ||
			!strings.Contains(cm.Data["telegraf.conf"], `signal = "STDIN"`) {
			t.Errorf("telegraf.conf does not run the plugin with STDIN signalling:\n%s", cm.Data["telegraf.conf"])
		}
		t.Setenv("NODE_NAME", "worker-1")
		for key, scope := range map[string]string{"plugin-cluster.conf": "cluster", "plugin-node.conf": "node"} {
			path := filepath.Join(t.TempDir(), key)
			if err := os.WriteFile(path, []byte(cm.Data[key]), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := plugin.CheckConfigFile(path); err != nil {
				t.Errorf("%s: %v", key, err)
				continue
			}
			p := decodePlugin(t, cm.Data[key])
			if err := p.Init(); err != nil {
				t.Errorf("%s: Init: %v", key, err)
			}
			if got := p.Kubernetes.Scope; got != scope && !(got == "" && scope == "cluster") {
				t.Errorf("%s: scope %q", key, got)
			}
		}
	})
}

// decodePlugin decodes the [[inputs.certexpiry]] block over the plugin's defaults, as the shim does.
func decodePlugin(t *testing.T, doc string) *plugin.CertExpiry {
	t.Helper()
	var file struct {
		Inputs map[string][]toml.Primitive `toml:"inputs"`
	}
	md, err := toml.Decode(doc, &file)
	if err != nil {
		t.Fatal(err)
	}
	p := plugin.New()
	if err := md.PrimitiveDecode(file.Inputs["certexpiry"][0], p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestShippedConfigUnderRealTelegraf runs the real telegraf binary with the ConfigMap's
// telegraf.conf and plugin-cluster.conf (paths, domains and credentials adapted to the test)
// against the real API server: pods are found by their container port named "https", as shipped.
func TestShippedConfigUnderRealTelegraf(t *testing.T) {
	telegrafBin := testenv.Binary(t, "telegraf")
	c := startCluster(t)
	createNamespace(t, c.admin, "shop")
	serve(t, "127.0.0.12", c.port, c.expired)
	shop := map[string]string{"app": "shop"}
	createPod(t, c.admin, podSpec{ns: "shop", name: "web-0", node: "node-a", labels: shop, ip: "127.0.0.11", ready: true, httpsPort: c.port})
	createPod(t, c.admin, podSpec{ns: "shop", name: "web-1", node: "node-b", labels: shop, ip: "127.0.0.12", ready: true, httpsPort: c.port})
	createPod(t, c.admin, podSpec{ns: "shop", name: "sidecar-only", node: "node-b", labels: shop, ip: "127.0.0.13", ready: true})

	cm, err := c.admin.CoreV1().ConfigMaps(ns).Get(context.Background(), "telegraf-certexpiry", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := buildPlugin(t, dir)
	pluginConf := cm.Data["plugin-cluster.conf"]
	pluginConf = strings.Replace(pluginConf, `domains = ["example.com", "www.example.com"]`, `domains = ["shop.test"]`, 1)
	pluginConf = strings.Replace(pluginConf, "[inputs.certexpiry.kubernetes]",
		"[inputs.certexpiry.kubernetes]\n    kube_config = "+strconv.Quote(c.api.Kubeconfig(c.saToken, "sa")), 1)
	pluginPath := filepath.Join(dir, "plugin.conf")
	if err := os.WriteFile(pluginPath, []byte(pluginConf), 0o600); err != nil {
		t.Fatal(err)
	}
	telegrafConf := strings.NewReplacer(
		"/usr/local/bin/telegraf-certexpiry", bin,
		"/etc/telegraf-certexpiry/plugin.conf", pluginPath,
	).Replace(cm.Data["telegraf.conf"])
	confPath := filepath.Join(dir, "telegraf.conf")
	if err := os.WriteFile(confPath, []byte(telegrafConf), 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(telegrafBin, "--config", confPath, "--test", "--test-wait", "10")
	cmd.Env = append(os.Environ(), "INFLUX_URL=http://127.0.0.1:9", "INFLUX_TOKEN=x", "INFLUX_ORG=o", "INFLUX_BUCKET=b")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("telegraf: %v\nstderr:\n%s", err, stderr.String())
	}
	parser := &influx.Parser{}
	if err := parser.Init(); err != nil {
		t.Fatal(err)
	}
	// --test prints "> " before each metric.
	lp := strings.ReplaceAll(stdout.String(), "> ", "")
	metrics, err := parser.Parse([]byte(lp))
	if err != nil {
		t.Fatalf("parsing telegraf output: %v\n%s", err, stdout.String())
	}
	var rows []string
	var disc map[string]any
	for _, m := range metrics {
		tags := m.Tags()
		delete(tags, "host")
		switch m.Name() {
		case "cert_expiry":
			rows = append(rows, metrictest.TagLine(tags))
		case plugin.DiscoveryMeasurement:
			disc = m.Fields()
		}
	}
	sort.Strings(rows)
	p := strconv.Itoa(c.port)
	want := []string{
		"address=127.0.0.11,domain=shop.test,namespace=shop,node=node-a,pod=web-0,port=" + p + ",source=kubernetes,status=valid",
		"address=127.0.0.12,domain=shop.test,namespace=shop,node=node-b,pod=web-1,port=" + p + ",source=kubernetes,status=expired",
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("cert_expiry rows from telegraf\n got %q\nwant %q\nstdout:\n%s\nstderr:\n%s", rows, want, stdout.String(), stderr.String())
	}
	if disc["skipped_no_port"] != int64(1) || disc["targets"] != int64(2) || disc["synced"] != true {
		t.Fatalf("cert_expiry_discovery %v", disc)
	}
}

// buildPlugin compiles the working tree's telegraf-certexpiry into dir.
func buildPlugin(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "telegraf-certexpiry")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/telegraf-certexpiry")
	cmd.Dir = testenv.RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestNamespacedRBAC applies namespaced/rbac.yaml (a Role, not the ClusterRole) and runs the
// plugin as the ServiceAccount: watching the namespace it grants works; another namespace, or
// all of them, is refused with the API server's words, and the granted one keeps working.
func TestNamespacedRBAC(t *testing.T) {
	api := testenv.StartKubeAPI(t)
	dir := repoPath(t, "deploy/kubernetes")
	applyManifests(t, api, filepath.Join(dir, "namespace.yaml"), filepath.Join(dir, "serviceaccount.yaml"))
	admin := api.AdminClient()
	createNamespace(t, admin, "web")
	createNamespace(t, admin, "blog")
	applyManifests(t, api, filepath.Join(dir, "namespaced", "rbac.yaml"))
	createPod(t, admin, podSpec{ns: "web", name: "web-0", node: "node-a", ip: "127.0.0.31", ready: true})
	kubeconfig := api.Kubeconfig(serviceAccountToken(t, admin), "sa")

	run := func(namespaces ...string) map[string]any {
		t.Helper()
		p := plugin.New()
		p.Log = &logger{}
		p.Domains = []string{"web.test"}
		p.Ports = []int{testenv.FreePort(t)}
		p.Kubernetes = &discovery.Config{KubeConfig: kubeconfig, Namespaces: namespaces, SyncTimeout: duration.Duration(2 * time.Second)}
		if err := p.Init(); err != nil {
			t.Fatal(err)
		}
		if err := p.Start(&acc{}); err != nil {
			t.Fatal(err)
		}
		defer p.Stop()
		return discoveryRow(t, gather(t, p)).Fields
	}
	const user = `User "system:serviceaccount:telegraf-certexpiry:telegraf-certexpiry"`
	hint := `: grant list and watch on this resource to the plugin's identity (deploy/kubernetes/rbac.yaml)`

	if f := run("web"); f["synced"] != true || f["targets"] != int64(1) || f["error"] != nil {
		t.Fatalf("namespace granted by the Role: %v", f)
	}
	f := run("web", "blog")
	wantErr := "pods in namespace blog: pods is forbidden: " + user + ` cannot list resource "pods" in API group "" in the namespace "blog"` + hint +
		"; pods is forbidden: " + user + ` cannot watch resource "pods" in API group "" in the namespace "blog"` + hint
	if f["synced"] != false || f["targets"] != int64(1) || f["error"] != wantErr {
		t.Fatalf("one namespace not granted: %v\nwant error %q (and web's pod still probed)", f, wantErr)
	}
	f = run()
	wantErr = "pods in all namespaces: pods is forbidden: " + user + ` cannot list resource "pods" in API group "" at the cluster scope` + hint +
		"; pods is forbidden: " + user + ` cannot watch resource "pods" in API group "" at the cluster scope` + hint
	if f["synced"] != false || f["targets"] != int64(0) || f["error"] != wantErr {
		t.Fatalf("all namespaces with a Role only: %v\nwant error %q", f, wantErr)
	}
}
