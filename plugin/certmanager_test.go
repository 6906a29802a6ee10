package plugin

import (
	"context"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certmanager"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
)

// fakeDynamic cannot stream a list; it says so, as the fake clientset does itself.
type fakeDynamic struct{ *dynamicfake.FakeDynamicClient }

func (fakeDynamic) IsWatchListSemanticsUnSupported() bool { return true }

// TestGatherCertManager: a Certificate for two names, renewed once (revision 2, Ready), and
// one not issued yet, give one certmanager_certificate row per name, and the discovery row
// counts them.
func TestGatherCertManager(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	nb := now.Add(-24 * time.Hour)
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{certmanager.Certificates: "CertificateList"})
	watching := make(chan struct{}, 4)
	client.PrependWatchReactor("certificates", func(k8stesting.Action) (bool, watch.Interface, error) {
		watching <- struct{}{}
		return false, nil, nil
	})

	c := New()
	c.CertManager = &certmanager.Config{}
	c.SetClock(func() time.Time { return now })
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	c.certMgr.newClient = func(*certmanager.Config, *atomic.Int64) (dynamic.Interface, error) { return fakeDynamic{client}, nil }
	if err := c.Start(nil); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	<-watching // events before the WATCH is open would be lost by the fake

	web := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": map[string]any{"namespace": "shop", "name": "web"},
		"spec": map[string]any{"secretName": "web-tls", "dnsNames": []any{"shop.example", "*.shop.example"},
			"issuerRef": map[string]any{"name": "letsencrypt", "kind": "ClusterIssuer"}},
		"status": map[string]any{
			"notBefore": nb.Format(time.RFC3339), "notAfter": nb.Add(90 * 24 * time.Hour).Format(time.RFC3339),
			"renewalTime": nb.Add(60 * 24 * time.Hour).Format(time.RFC3339), "revision": int64(2),
			"conditions": []any{map[string]any{"type": "Ready", "status": "True"}},
		},
	}}
	pending := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": map[string]any{"namespace": "api", "name": "api"},
		"spec":     map[string]any{"secretName": "api-tls", "dnsNames": []any{"api.example"}, "issuerRef": map[string]any{"name": "letsencrypt"}},
	}}
	for _, u := range []*unstructured.Unstructured{web, pending} {
		if _, err := client.Resource(certmanager.Certificates).Namespace(u.GetNamespace()).Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var acc *metrictest.Accumulator
	deadline := time.Now().Add(20 * time.Second)
	for {
		acc = &metrictest.Accumulator{}
		if err := c.Gather(acc); err != nil {
			t.Fatal(err)
		}
		if len(acc.Measurement(CertManagerMeasurement)) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rows %v", acc.Rows())
		}
		time.Sleep(10 * time.Millisecond)
	}
	webFields := map[string]any{"ready": true, "not_before": nb.Unix(), "not_after": nb.Add(90 * 24 * time.Hour).Unix(), "renewal_time": nb.Add(60 * 24 * time.Hour).Unix(), "revision": int64(2)}
	webTags := func(d string) map[string]string {
		return map[string]string{"namespace": "shop", "name": "web", "secret": "web-tls", "domain": d, "issuer": "letsencrypt"}
	}
	want := []metrictest.Row{
		{Measurement: CertManagerMeasurement, Tags: map[string]string{"namespace": "api", "name": "api", "secret": "api-tls", "domain": "api.example", "issuer": "letsencrypt"}, Fields: map[string]any{"ready": false}, Time: now},
		{Measurement: CertManagerMeasurement, Tags: webTags("shop.example"), Fields: webFields, Time: now},
		{Measurement: CertManagerMeasurement, Tags: webTags("*.shop.example"), Fields: webFields, Time: now},
		{Measurement: DiscoveryMeasurement, Tags: map[string]string{"source": "cert-manager"}, Fields: map[string]any{"certificates": int64(2), "synced": true, "installed": true, "api_requests": int64(0)}, Time: now},
	}
	if got := acc.Rows(); !reflect.DeepEqual(got, want) {
		var g, w []string
		for _, r := range got {
			g = append(g, r.String())
		}
		for _, r := range want {
			w = append(w, r.String())
		}
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
}

func TestInitRejectsBadCertManager(t *testing.T) {
	c := New()
	c.CertManager = &certmanager.Config{Namespaces: []string{"Shop"}}
	err := c.Init()
	if err == nil || !strings.HasPrefix(err.Error(), `cert_manager.namespaces[0]: "Shop" is not a namespace name: `) {
		t.Errorf("err = %v", err)
	}
}
