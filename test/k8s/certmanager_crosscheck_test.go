package k8s

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certmanager"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/discovery"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/plugin"
)

// TestCertManagerCrossCheck: a real kube-apiserver with cert-manager's own Certificate CRD, a
// Certificate whose status says it was renewed, and two pods on loopback addresses: web-0
// still serves the certificate before the renewal, web-1 the renewed one. The plugin gathers
// both sides for real (pods through discovery and probes, the Certificate through the
// cert_manager table); its rows go to a real InfluxDB 1.8.3, the Certificate's as first
// reported two hours ago in one database and 30 minutes ago in another. With the shipped
// grace period (1h), flux/stale_certificates.flux lists web-0, and only web-0, in the first,
// and nothing in the second.
func TestCertManagerCrossCheck(t *testing.T) {
	testenv.RequireIntegration(t)
	crd := certManagerCRD(t)
	api := testenv.StartKubeAPI(t)
	db := testenv.StartInfluxDB18(t, testenv.InfluxDBOptions{Flux: true})
	applyManifests(t, api, crd)
	admin := api.AdminClient()
	createNamespace(t, admin, "shop")

	now := time.Now().Truncate(time.Second)
	ca, err := testcerts.NewCA("cert-manager test CA", now.Add(-100*24*time.Hour), now.Add(200*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	issue := func(nb time.Time) *testcerts.Leaf {
		l, err := ca.Issue(testcerts.Options{CommonName: "shop.example", DNSNames: []string{"shop.example"}, NotBefore: nb, NotAfter: nb.Add(90 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	before, renewed := issue(now.Add(-70*24*time.Hour)), issue(now.Add(-3*time.Hour))
	port := testenv.FreePort(t)
	serve(t, "127.0.0.51", port, before)
	serve(t, "127.0.0.52", port, renewed)
	createPod(t, admin, podSpec{ns: "shop", name: "web-0", node: "node-a", ip: "127.0.0.51", ready: true})
	createPod(t, admin, podSpec{ns: "shop", name: "web-1", node: "node-a", ip: "127.0.0.52", ready: true})

	dyn, err := dynamic.NewForConfig(api.RESTConfig(testenv.KubeAdminToken))
	if err != nil {
		t.Fatal(err)
	}
	certs := dyn.Resource(certmanager.Certificates).Namespace("shop")
	cert := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": map[string]any{"namespace": "shop", "name": "web"},
		"spec": map[string]any{"secretName": "web-tls", "dnsNames": []any{"shop.example"},
			"issuerRef": map[string]any{"name": "letsencrypt", "kind": "ClusterIssuer", "group": "cert-manager.io"}},
	}}
	eventually(t, "the CRD to be established", func() bool {
		_, err := certs.Create(context.Background(), cert, metav1.CreateOptions{})
		return err == nil
	})
	cur, err := certs.Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Object["status"] = map[string]any{
		"notBefore": renewed.Cert.NotBefore.UTC().Format(time.RFC3339), "notAfter": renewed.Cert.NotAfter.UTC().Format(time.RFC3339),
		"renewalTime": renewed.Cert.NotBefore.Add(60 * 24 * time.Hour).UTC().Format(time.RFC3339), "revision": int64(2),
		"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "Ready", "message": "Certificate is up to date and has not expired", "lastTransitionTime": now.UTC().Format(time.RFC3339)}},
	}
	if _, err := certs.UpdateStatus(context.Background(), cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	kubeconfig := api.Kubeconfig(testenv.KubeAdminToken, "admin")
	p := plugin.New()
	p.Log = &logger{}
	p.Domains = []string{"shop.example"}
	p.Ports = []int{port}
	p.Kubernetes = &discovery.Config{KubeConfig: kubeconfig, Namespaces: []string{"shop"}}
	p.CertManager = &certmanager.Config{KubeConfig: kubeconfig, Namespaces: []string{"shop"}}
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(&acc{}); err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	var a *acc
	eventually(t, "both pods probed and the Certificate's status seen", func() bool {
		a = gather(t, p)
		cm := a.Measurement(plugin.CertManagerMeasurement)
		return len(a.Measurement(plugin.Measurement)) == 2 && len(cm) == 1 && cm[0].Fields["not_after"] == renewed.Cert.NotAfter.Unix()
	})
	for _, c := range []struct {
		database string
		stored   time.Duration // how long ago the renewed certificate was first reported
		want     []string
	}{
		{"twohours", 2 * time.Hour, []string{fmt.Sprintf("namespace=shop pod=web-0 address=127.0.0.51 port=%d domain=shop.example served_not_after=%s stored_not_after=%s source=cert-manager stored_domain=shop.example appeared=%s",
			port, before.Cert.NotAfter.UTC().Format(time.RFC3339), renewed.Cert.NotAfter.UTC().Format(time.RFC3339), now.Add(-2*time.Hour).UTC().Format(time.RFC3339))}},
		{"halfhour", 30 * time.Minute, nil},
	} {
		t.Run(c.database, func(t *testing.T) {
			db.CreateDatabase(t, c.database)
			cm := a.Measurement(plugin.CertManagerMeasurement)
			db.WriteRows(t, c.database, cm, now.Add(-c.stored))
			db.WriteRows(t, c.database, cm, now)
			db.WriteRows(t, c.database, a.Measurement(plugin.Measurement), now)
			q := testenv.FluxFile(t, "stale_certificates.flux", "bucket", `"`+c.database+`/autogen"`)
			var got []string
			for _, r := range db.FluxRows(t, q) {
				got = append(got, fmt.Sprintf("namespace=%s pod=%s address=%s port=%s domain=%s served_not_after=%s stored_not_after=%s source=%s stored_domain=%s appeared=%s",
					r["namespace"], r["pod"], r["address"], r["port"], r["domain"], r["served_not_after"], r["stored_not_after"], r["source"], r["stored_domain"], r["appeared"]))
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("stale_certificates:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}
