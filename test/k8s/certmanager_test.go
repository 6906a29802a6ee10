package k8s

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certmanager"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/plugin"
)

// certManagerModule is the released cert-manager whose Certificate CRD the tests install.
const certManagerModule = "github.com/cert-manager/cert-manager@v1.21.2"

// certManagerCRD returns the path of cert-manager's own Certificate CRD, from its released
// module as the Go module proxy serves it (downloaded once into the module cache; run outside
// this module, so that cert-manager never becomes one of its dependencies).
func certManagerCRD(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", certManagerModule)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	out, err := cmd.Output()
	var mod struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &mod); err != nil || jerr != nil || mod.Error != "" {
		t.Fatalf("go mod download %s: %v %v %s", certManagerModule, err, jerr, mod.Error)
	}
	return filepath.Join(mod.Dir, "deploy", "crds", "cert-manager.io_certificates.yaml")
}

// TestCertManagerOnRealAPIServer runs the plugin's cert_manager table as the shipped
// ServiceAccount with rbac-cert-manager.yaml on a real kube-apiserver: first without the
// Certificate CRD (one log line, installed = false, no crash), then with cert-manager's own
// CRD installed while it runs, and a Certificate whose status the test writes as
// cert-manager's readiness controller would. It also proves the RBAC grants list and watch
// on Certificates and nothing else new (no get, no Secrets).
func TestCertManagerOnRealAPIServer(t *testing.T) {
	testenv.RequireIntegration(t)
	crd := certManagerCRD(t)
	api := testenv.StartKubeAPI(t)
	dir := repoPath(t, "deploy/kubernetes")
	applyManifests(t, api, filepath.Join(dir, "namespace.yaml"), filepath.Join(dir, "serviceaccount.yaml"), filepath.Join(dir, "rbac-cert-manager.yaml"))
	admin := api.AdminClient()
	createNamespace(t, admin, "shop")
	kubeconfig := api.Kubeconfig(serviceAccountToken(t, admin), "sa")

	log := &logger{}
	p := plugin.New()
	p.Log = log
	p.CertManager = &certmanager.Config{KubeConfig: kubeconfig}
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(&acc{}); err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	cmRow := func(a *acc) row {
		t.Helper()
		for _, r := range a.Measurement(plugin.DiscoveryMeasurement) {
			if r.Tags["source"] == "cert-manager" {
				return r
			}
		}
		t.Fatalf("no cert-manager discovery row in %v", a.Rows())
		return row{}
	}
	notInstalled := "E! cert-manager: the Certificate resource (certificates.cert-manager.io/v1) is not installed in this cluster: no certmanager_certificate rows until it is (checking again with back-off)"
	eventually(t, "installed = false", func() bool { return cmRow(gather(t, p)).Fields["installed"] == false })
	eventually(t, "a retry", func() bool { return cmRow(gather(t, p)).Fields["api_requests"].(int64) >= 2 })
	if f := cmRow(gather(t, p)).Fields; f["certificates"] != int64(0) || f["synced"] != false || f["error"] != nil {
		t.Errorf("discovery row without the CRD: %v", f)
	}
	if got := log.matching("E!"); !reflect.DeepEqual(got, []string{notInstalled}) {
		t.Errorf("error log %q, want once %q", got, notInstalled)
	}

	// cert-manager is installed while the plugin runs.
	applyManifests(t, api, crd)
	adminDyn, err := dynamic.NewForConfig(api.RESTConfig(testenv.KubeAdminToken))
	if err != nil {
		t.Fatal(err)
	}
	certs := adminDyn.Resource(certmanager.Certificates).Namespace("shop")
	web := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": map[string]any{"namespace": "shop", "name": "web"},
		"spec": map[string]any{"secretName": "web-tls", "dnsNames": []any{"shop.example", "www.shop.example"},
			"issuerRef": map[string]any{"name": "letsencrypt", "kind": "ClusterIssuer", "group": "cert-manager.io"}},
	}}
	eventually(t, "the CRD to be established", func() bool {
		_, err := certs.Create(context.Background(), web, metav1.CreateOptions{})
		return err == nil
	})
	nb := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	cur, err := certs.Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Object["status"] = map[string]any{
		"notBefore": nb.Format(time.RFC3339), "notAfter": nb.Add(90 * 24 * time.Hour).Format(time.RFC3339),
		"renewalTime": nb.Add(60 * 24 * time.Hour).Format(time.RFC3339), "revision": int64(4),
		"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "Ready", "message": "Certificate is up to date and has not expired", "lastTransitionTime": nb.Format(time.RFC3339)}},
	}
	if _, err := certs.UpdateStatus(context.Background(), cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The reflector's back-off is at most 30 s; eventually allows 60.
	var a *acc
	eventually(t, "certmanager_certificate rows with the status", func() bool {
		a = gather(t, p)
		rows := a.Measurement(plugin.CertManagerMeasurement)
		return len(rows) == 2 && rows[0].Fields["revision"] == int64(4)
	})
	fields := map[string]any{"ready": true, "not_before": nb.Unix(), "not_after": nb.Add(90 * 24 * time.Hour).Unix(), "renewal_time": nb.Add(60 * 24 * time.Hour).Unix(), "revision": int64(4)}
	for i, d := range []string{"shop.example", "www.shop.example"} {
		r := a.Measurement(plugin.CertManagerMeasurement)[i]
		want := map[string]string{"namespace": "shop", "name": "web", "secret": "web-tls", "domain": d, "issuer": "letsencrypt"}
		if !reflect.DeepEqual(r.Tags, want) || !reflect.DeepEqual(r.Fields, fields) {
			t.Errorf("row %d: %v %v, want %v %v", i, r.Tags, r.Fields, want, fields)
		}
	}
	if f := cmRow(a).Fields; f["installed"] != true || f["synced"] != true || f["certificates"] != int64(1) || f["error"] != nil {
		t.Errorf("discovery row with the CRD: %v", f)
	}
	if got, want := log.matching("I! cert-manager"), []string{"I! cert-manager: the Certificate resource (certificates.cert-manager.io/v1) is installed now; watching Certificates"}; !reflect.DeepEqual(got, want) {
		t.Errorf("info log %q, want %q", got, want)
	}
	if got := log.matching("E!"); len(got) != 1 {
		t.Errorf("error log %q", got)
	}

	// The shipped RBAC: list and watch Certificates, nothing else new.
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	saDyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := saDyn.Resource(certmanager.Certificates).List(context.Background(), metav1.ListOptions{}); err != nil {
		t.Errorf("list Certificates as the ServiceAccount: %v", err)
	}
	if _, err := saDyn.Resource(certmanager.Certificates).Namespace("shop").Get(context.Background(), "web", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("get a Certificate as the ServiceAccount: %v, want forbidden", err)
	}
	saClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := saClient.CoreV1().Secrets("shop").List(context.Background(), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list Secrets as the ServiceAccount: %v, want forbidden", err)
	}
	if err := saDyn.Resource(certmanager.Certificates).Namespace("shop").Delete(context.Background(), "web", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "cannot delete") {
		t.Errorf("delete a Certificate as the ServiceAccount: %v, want forbidden", err)
	}
}
