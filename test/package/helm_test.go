package pkgtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/plugin"
)

func chartDir(t *testing.T) string {
	return filepath.Join(testenv.RepoRoot(t), "deploy", "helm", "telegraf-certexpiry")
}

// helmCmd runs the cached helm build and returns its combined output and error.
func helmCmd(helm string, args ...string) (string, error) {
	out, err := exec.Command(helm, args...).CombinedOutput()
	return string(out), err
}

// TestHelmChartRefusesBadValues: a render without domains, or with an unknown scope or output,
// stops with a message naming the value.
func TestHelmChartRefusesBadValues(t *testing.T) {
	helm := testenv.Binary(t, "helm")
	chart := chartDir(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "domains: set at least one name your pods serve, e.g. --set 'domains={example.com}'"},
		{[]string{"--set", "domains={a.test}", "--set", "scope=nodes"}, `scope: "nodes" is neither cluster (a Deployment) nor node (a DaemonSet)`},
		{[]string{"--set", "domains={a.test}", "--set", "output.type=influx"}, `output.type: "influx" is neither influxdb (1.x) nor influxdb_v2`},
	} {
		out, err := helmCmd(helm, append([]string{"template", "r", chart}, c.args...)...)
		if err == nil || !strings.Contains(out, c.want) {
			t.Errorf("helm template %q: %v\n%s\nwant an error with %q", c.args, err, out, c.want)
		}
	}
}

// helmCase is one set of values: rendered, applied, and the ServiceAccount's access checked.
type helmCase struct {
	name, release, namespace string
	values                   string
	kind                     string // Deployment or DaemonSet
	// access: namespace → the ServiceAccount's resource rules there ("verb resource.group"),
	// besides what every authenticated user may do.
	access map[string][]string
	// clusterWidePods: may the ServiceAccount list pods across all namespaces?
	clusterWidePods bool
}

// TestHelmChart lints the chart for each scope, renders it with `helm template`, applies the
// rendered manifests server-side to a real kube-apiserver (twice: upgrades re-apply), and then,
// with a token of the chart's own ServiceAccount, checks that it can list and watch pods where
// the values say, and do nothing else.
func TestHelmChart(t *testing.T) {
	helm := testenv.Binary(t, "helm")
	chart := chartDir(t)
	cases := []helmCase{{
		name: "cluster scope all namespaces", release: "probe", namespace: "monitoring",
		values: "domains: [shop.test, www.shop.test]\n",
		kind:   "Deployment",
		access: map[string][]string{
			"default": {"list pods", "watch pods"},
			"shop":    {"list pods", "watch pods"},
		},
		clusterWidePods: true,
	}, {
		name: "node scope two namespaces Ingress cert-manager", release: "edge", namespace: "observability",
		values: "scope: node\ndomains: [shop.test]\nnamespaces: [web, blog]\nlabelSelector: app=web\n" +
			"ingress:\n  enabled: true\ncertManager:\n  enabled: true\noutput:\n  type: influxdb\n",
		kind: "DaemonSet",
		access: map[string][]string{
			"web":  {"list certificates.cert-manager.io", "list ingresses.networking.k8s.io", "list pods", "watch certificates.cert-manager.io", "watch ingresses.networking.k8s.io", "watch pods"},
			"blog": {"list certificates.cert-manager.io", "list ingresses.networking.k8s.io", "list pods", "watch certificates.cert-manager.io", "watch ingresses.networking.k8s.io", "watch pods"},
			"shop": nil,
		},
	}}

	api := testenv.StartKubeAPI(t)
	admin := api.AdminClient()
	for _, ns := range []string{"monitoring", "observability", "web", "blog", "shop"} {
		if _, err := admin.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// helm splits -f on commas: the path must hold none.
			valuesFile := filepath.Join(t.TempDir(), "values.yaml")
			if err := os.WriteFile(valuesFile, []byte(c.values), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := helmCmd(helm, "lint", "--strict", chart, "-f", valuesFile); err != nil || !strings.Contains(out, "1 chart(s) linted, 0 chart(s) failed") {
				t.Fatalf("helm lint --strict: %v\n%s", err, out)
			}
			rendered, err := exec.Command(helm, "template", c.release, chart, "--namespace", c.namespace, "-f", valuesFile).Output()
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			applied := api.Apply(t, "helm template", rendered)
			api.Apply(t, "helm template", rendered)
			var kinds []string
			for _, o := range applied {
				kinds = append(kinds, o.GetKind())
			}
			sort.Strings(kinds)
			wantKinds := []string{"ClusterRole", "ClusterRoleBinding", "ConfigMap", c.kind, "ServiceAccount"}
			if len(c.access) > 0 && !c.clusterWidePods {
				wantKinds = []string{"ConfigMap", c.kind, "Role", "Role", "RoleBinding", "RoleBinding", "ServiceAccount"}
			}
			sort.Strings(wantKinds)
			if !reflect.DeepEqual(kinds, wantKinds) {
				t.Errorf("rendered kinds %v, want %v", kinds, wantKinds)
			}

			fullname := c.release + "-telegraf-certexpiry"
			checkRenderedWorkload(t, admin, c, fullname)
			checkServiceAccountAccess(t, api, admin, c, fullname)
		})
	}
}

// checkRenderedWorkload: the pod template follows the init-container pattern, and the plugin
// config the chart generated passes the plugin's strict checks.
func checkRenderedWorkload(t *testing.T, admin kubernetes.Interface, c helmCase, fullname string) {
	t.Helper()
	ctx := context.Background()
	var spec corev1.PodSpec
	if c.kind == "Deployment" {
		d, err := admin.AppsV1().Deployments(c.namespace).Get(ctx, fullname, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("deployment: %d replicas, strategy %s; want 1, Recreate (never two probing at once)", *d.Spec.Replicas, d.Spec.Strategy.Type)
		}
		spec = d.Spec.Template.Spec
	} else {
		d, err := admin.AppsV1().DaemonSets(c.namespace).Get(ctx, fullname, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		spec = d.Spec.Template.Spec
		env := spec.Containers[0].Env
		if len(env) != 1 || env[0].Name != "NODE_NAME" || env[0].ValueFrom == nil || env[0].ValueFrom.FieldRef == nil || env[0].ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
			t.Errorf("daemonset env %+v: want NODE_NAME from spec.nodeName", env)
		}
	}
	if spec.ServiceAccountName != fullname {
		t.Errorf("serviceAccountName %q", spec.ServiceAccountName)
	}
	checkInitContainerPattern(t, spec, "/usr/local/bin/telegraf-certexpiry")
	if ef := spec.Containers[0].EnvFrom; len(ef) != 1 || ef[0].SecretRef == nil || ef[0].SecretRef.Name != fullname+"-output" {
		t.Errorf("envFrom %+v: want the output Secret %s-output", ef, fullname)
	}

	cm, err := admin.CoreV1().ConfigMaps(c.namespace).Get(ctx, fullname, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mounts := map[string]string{}
	for _, m := range spec.Containers[0].VolumeMounts {
		if m.Name == "config" {
			mounts[m.MountPath] = m.SubPath
		}
	}
	if want := map[string]string{"/etc/telegraf/telegraf.conf": "telegraf.conf", "/etc/telegraf-certexpiry/plugin.conf": "plugin.conf"}; !reflect.DeepEqual(mounts, want) {
		t.Errorf("config mounts %v, want %v", mounts, want)
	}
	if !strings.Contains(cm.Data["telegraf.conf"], `command = ["/usr/local/bin/telegraf-certexpiry", "-config", "/etc/telegraf-certexpiry/plugin.conf", "-poll_interval_disabled"]`) {
		t.Errorf("telegraf.conf does not run the plugin:\n%s", cm.Data["telegraf.conf"])
	}
	path := filepath.Join(t.TempDir(), "plugin.conf")
	if err := os.WriteFile(path, []byte(cm.Data["plugin.conf"]), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NODE_NAME", "worker-1")
	p, err := plugin.LoadConfigFile(path)
	if err != nil {
		t.Fatalf("rendered plugin.conf: %v\n%s", err, cm.Data["plugin.conf"])
	}
	if err := p.Init(); err != nil {
		t.Fatalf("rendered plugin.conf: Init: %v\n%s", err, cm.Data["plugin.conf"])
	}
	wantScope := map[string]string{"Deployment": "", "DaemonSet": "node"}[c.kind]
	if p.Kubernetes == nil || p.Kubernetes.Scope != wantScope || !reflect.DeepEqual(p.Kubernetes.PortNames, []string{"https"}) {
		t.Errorf("rendered plugin.conf: kubernetes %+v\n%s", p.Kubernetes, cm.Data["plugin.conf"])
	}
	// certManager.enabled adds the cert_manager table, scoped like pod discovery.
	if wantCM := strings.Contains(c.values, "certManager:\n  enabled: true"); wantCM != (p.CertManager != nil) {
		t.Errorf("rendered plugin.conf: cert_manager table present = %v, want %v\n%s", p.CertManager != nil, wantCM, cm.Data["plugin.conf"])
	} else if wantCM && !reflect.DeepEqual(p.CertManager.Namespaces, p.Kubernetes.Namespaces) {
		t.Errorf("rendered plugin.conf: cert_manager namespaces %v, want pod discovery's %v", p.CertManager.Namespaces, p.Kubernetes.Namespaces)
	}
}

// basicUserRules are what every authenticated identity may do (system:basic-user): not the
// chart's doing.
var basicUserRules = map[string]bool{
	"create selfsubjectaccessreviews.authorization.k8s.io": true,
	"create selfsubjectrulesreviews.authorization.k8s.io":  true,
	"create selfsubjectreviews.authentication.k8s.io":      true,
}

// checkServiceAccountAccess asks the API server, as the chart's ServiceAccount, what it may do
// in each namespace, then lists and watches pods for real.
func checkServiceAccountAccess(t *testing.T, api *testenv.KubeAPI, admin kubernetes.Interface, c helmCase, sa string) {
	t.Helper()
	ctx := context.Background()
	exp := int64(3600)
	tr, err := admin.CoreV1().ServiceAccounts(c.namespace).CreateToken(ctx, sa,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(api.RESTConfig(tr.Status.Token))
	if err != nil {
		t.Fatal(err)
	}
	for ns, want := range c.access {
		r, err := client.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx, &authorizationv1.SelfSubjectRulesReview{
			Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: ns}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, rule := range r.Status.ResourceRules {
			if len(rule.ResourceNames) > 0 {
				t.Errorf("in %s: a rule limited to names %v", ns, rule.ResourceNames)
			}
			for _, g := range rule.APIGroups {
				for _, res := range rule.Resources {
					for _, v := range rule.Verbs {
						s := v + " " + res
						if g != "" {
							s += "." + g
						}
						if !basicUserRules[s] {
							got = append(got, s)
						}
					}
				}
			}
		}
		sort.Strings(got)
		if want == nil {
			want = []string{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("the ServiceAccount's rules in namespace %s:\n got %q\nwant %q", ns, got, want)
		}
		if r.Status.Incomplete {
			t.Errorf("rules review in %s incomplete: %s", ns, r.Status.EvaluationError)
		}
	}

	// For real: list and watch pods where granted; no get, no secrets, nothing elsewhere.
	for ns, rules := range c.access {
		_, listErr := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if granted := len(rules) > 0; (listErr == nil) != granted {
			t.Errorf("list pods in %s: %v (granted: %v)", ns, listErr, granted)
		}
		if len(rules) == 0 {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		w, err := client.CoreV1().Pods(ns).Watch(wctx, metav1.ListOptions{})
		if err != nil {
			t.Errorf("watch pods in %s: %v", ns, err)
		} else {
			w.Stop()
		}
		cancel()
		if _, err := client.CoreV1().Pods(ns).Get(ctx, "any", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("get pod in %s: %v, want forbidden", ns, err)
		}
		if _, err := client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("list secrets in %s: %v, want forbidden", ns, err)
		}
	}
	_, err = client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if (err == nil) != c.clusterWidePods {
		t.Errorf("list pods in all namespaces: %v, want allowed=%v", err, c.clusterWidePods)
	}
	if _, err := client.CoreV1().ConfigMaps(c.namespace).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list configmaps in its own namespace: %v, want forbidden", err)
	}
}
