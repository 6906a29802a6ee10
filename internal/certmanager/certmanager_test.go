package certmanager

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testwait"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

// recordingLog keeps what the watcher logs.
type recordingLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *recordingLog) Errorf(f string, a ...any) { l.add("E! " + fmt.Sprintf(f, a...)) }
func (l *recordingLog) Infof(f string, a ...any)  { l.add("I! " + fmt.Sprintf(f, a...)) }
func (l *recordingLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}
func (l *recordingLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// certificate builds a Certificate as cert-manager's API server would store it.
func certificate(ns, name string, dnsNames []string, status map[string]any) *unstructured.Unstructured {
	names := make([]any, len(dnsNames))
	for i, d := range dnsNames {
		names[i] = d
	}
	o := map[string]any{
		"apiVersion": "cert-manager.io/v1",
		"kind":       "Certificate",
		"metadata":   map[string]any{"namespace": ns, "name": name},
		"spec": map[string]any{
			"secretName": name + "-tls",
			"dnsNames":   names,
			"issuerRef":  map[string]any{"name": "letsencrypt", "kind": "ClusterIssuer"},
		},
	}
	if status != nil {
		o["status"] = status
	}
	return &unstructured.Unstructured{Object: o}
}

func issued(notBefore time.Time, revision int64, ready string) map[string]any {
	return map[string]any{
		"notBefore":   notBefore.Format(time.RFC3339),
		"notAfter":    notBefore.Add(90 * 24 * time.Hour).Format(time.RFC3339),
		"renewalTime": notBefore.Add(60 * 24 * time.Hour).Format(time.RFC3339),
		"revision":    revision,
		"conditions": []any{
			map[string]any{"type": "Issuing", "status": "False"},
			map[string]any{"type": "Ready", "status": ready, "reason": "Ready"},
		},
	}
}

func TestParse(t *testing.T) {
	nb := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	got := Parse(certificate("shop", "web", []string{"shop.example", "*.shop.example"}, issued(nb, 3, "True")))
	want := Certificate{Namespace: "shop", Name: "web", Secret: "web-tls", Issuer: "letsencrypt", DNSNames: []string{"shop.example", "*.shop.example"},
		NotBefore: nb, NotAfter: nb.Add(90 * 24 * time.Hour), RenewalTime: nb.Add(60 * 24 * time.Hour), Revision: 3, Ready: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// Not issued yet: no status; a commonName-only Certificate.
	u := certificate("shop", "new", nil, nil)
	unstructured.RemoveNestedField(u.Object, "spec", "dnsNames")
	_ = unstructured.SetNestedField(u.Object, "cn.example", "spec", "commonName")
	got = Parse(u)
	if want := (Certificate{Namespace: "shop", Name: "new", Secret: "new-tls", Issuer: "letsencrypt", DNSNames: []string{"cn.example"}, Revision: -1}); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// noWatchList is the fake dynamic client saying what it is: a client that cannot stream a
// list (the fake clientset says so itself; the dynamic fake does not, and the reflector
// would wait for a bookmark that never comes).
type noWatchList struct{ *dynamicfake.FakeDynamicClient }

func (noWatchList) IsWatchListSemanticsUnSupported() bool { return true }

// fakeClient is a fake dynamic client that knows Certificates, and a channel that receives
// once per WATCH the informer opens (events before it would be lost by the fake tracker).
func fakeClient(objs ...runtime.Object) (*dynamicfake.FakeDynamicClient, chan struct{}) {
	c := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{Certificates: "CertificateList"}, objs...)
	watching := make(chan struct{}, 16)
	c.PrependWatchReactor("certificates", func(k8stesting.Action) (bool, watch.Interface, error) {
		watching <- struct{}{}
		return false, nil, nil
	})
	return c, watching
}

// waitFor polls cond until it holds: the informer applies events asynchronously.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, what, 5*time.Millisecond, cond)
}

func TestWatcherFollowsCertificates(t *testing.T) {
	nb := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	client, watching := fakeClient(certificate("shop", "web", []string{"shop.example"}, issued(nb, 1, "True")))
	log := &recordingLog{}
	w := New(noWatchList{client}, nil, log)
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	<-watching
	waitFor(t, "the first list", func() bool { return w.Snapshot().Synced })
	if s := w.Snapshot(); len(s.Certificates) != 1 || s.Certificates[0].Revision != 1 || s.NotInstalled || s.Error != "" {
		t.Fatalf("snapshot %+v", s)
	}

	// A renewal: cert-manager writes the new validity and revision into the status.
	renewed := certificate("shop", "web", []string{"shop.example"}, issued(nb.Add(60*24*time.Hour), 2, "True"))
	if _, err := client.Resource(Certificates).Namespace("shop").UpdateStatus(context.Background(), renewed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the renewal", func() bool {
		s := w.Snapshot()
		return len(s.Certificates) == 1 && s.Certificates[0].Revision == 2
	})
	if got := w.Snapshot().Certificates[0].NotBefore; !got.Equal(nb.Add(60 * 24 * time.Hour)) {
		t.Errorf("not_before %v after renewal", got)
	}
	// A second Certificate in another namespace, not issued yet.
	if _, err := client.Resource(Certificates).Namespace("api").Create(context.Background(), certificate("api", "api", []string{"api.example"}, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new Certificate", func() bool { return len(w.Snapshot().Certificates) == 2 })
	if s := w.Snapshot(); s.Certificates[0].Namespace != "api" || s.Certificates[0].Ready || s.Certificates[0].Revision != -1 {
		t.Errorf("snapshot not sorted or wrong: %+v", s.Certificates)
	}
	if l := log.all(); len(l) != 0 {
		t.Errorf("logged %q", l)
	}
}

// TestWatcherResourceNotInstalled: LIST answers 404 until the CRD is installed; one log line,
// NotInstalled in the snapshot, then Certificates once it exists.
func TestWatcherResourceNotInstalled(t *testing.T) {
	client, watching := fakeClient()
	var installed atomic.Bool
	lists := make(chan struct{}, 64)
	client.PrependReactor("list", "certificates", func(k8stesting.Action) (bool, runtime.Object, error) {
		defer func() { lists <- struct{}{} }()
		if !installed.Load() {
			return true, nil, apierrors.NewNotFound(Certificates.GroupResource(), "")
		}
		return false, nil, nil
	})
	log := &recordingLog{}
	w := New(noWatchList{client}, []string{"shop"}, log)
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	<-lists
	<-lists // a retry: still one log line
	s := w.Snapshot()
	if !s.NotInstalled || s.Synced || len(s.Certificates) != 0 || s.Error != "" {
		t.Fatalf("snapshot %+v", s)
	}
	want := []string{"E! cert-manager: the Certificate resource (certificates.cert-manager.io/v1) is not installed in this cluster: no certmanager_certificate rows until it is (checking again with back-off)"}
	if got := log.all(); !reflect.DeepEqual(got, want) {
		t.Fatalf("log %q\nwant %q", got, want)
	}

	installed.Store(true)
	<-watching
	waitFor(t, "the first list after install", func() bool { return w.Snapshot().Synced })
	if _, err := client.Resource(Certificates).Namespace("shop").Create(context.Background(), certificate("shop", "web", []string{"shop.example"}, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Certificate", func() bool { return len(w.Snapshot().Certificates) == 1 })
	if s := w.Snapshot(); s.NotInstalled {
		t.Errorf("still not installed: %+v", s)
	}
	want = append(want, "I! cert-manager: the Certificate resource (certificates.cert-manager.io/v1) is installed now; watching Certificates")
	if got := log.all(); !reflect.DeepEqual(got, want) {
		t.Errorf("log %q\nwant %q", got, want)
	}
}

func TestWatcherOtherError(t *testing.T) {
	client, _ := fakeClient()
	client.PrependReactor("list", "certificates", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(Certificates.GroupResource(), "", fmt.Errorf("no RBAC"))
	})
	log := &recordingLog{}
	w := New(noWatchList{client}, nil, log)
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	waitFor(t, "the error", func() bool { return w.Snapshot().Error != "" })
	s := w.Snapshot()
	if want := `certificates.cert-manager.io is forbidden: no RBAC`; s.Error != want || s.NotInstalled {
		t.Errorf("error %q, want %q", s.Error, want)
	}
	if l := log.all(); len(l) != 1 || !strings.Contains(l[0], "retrying with back-off") {
		t.Errorf("log %q", l)
	}
}

func TestValidate(t *testing.T) {
	c := Config{Namespaces: []string{"shop", "Bad_NS"}}
	err := c.Validate("cert_manager.")
	if err == nil || !strings.HasPrefix(err.Error(), `cert_manager.namespaces[1]: "Bad_NS" is not a namespace name: `) {
		t.Errorf("err = %v", err)
	}
	if err := (&Config{}).Validate("cert_manager."); err != nil {
		t.Errorf("empty: %v", err)
	}
}

// TestStrip: what the cache keeps parses exactly like the full object, and nothing else stays.
func TestStrip(t *testing.T) {
	nb := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	u := certificate("shop", "web", []string{"shop.example"}, issued(nb, 3, "True"))
	u.SetResourceVersion("42")
	u.SetAnnotations(map[string]string{"kubectl.kubernetes.io/last-applied-configuration": strings.Repeat("x", 4096)})
	u.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: "cert-manager", Operation: metav1.ManagedFieldsOperationApply}})
	_ = unstructured.SetNestedField(u.Object, map[string]any{"algorithm": "ECDSA", "rotationPolicy": "Always"}, "spec", "privateKey")
	_ = unstructured.SetNestedField(u.Object, "2026-12-30T10:00:00Z", "status", "nextPrivateKeySecretName")
	got, err := Strip(u)
	if err != nil {
		t.Fatal(err)
	}
	s := got.(*unstructured.Unstructured)
	if !reflect.DeepEqual(Parse(s), Parse(u)) {
		t.Errorf("stripped parses to %+v, want %+v", Parse(s), Parse(u))
	}
	if s.GetResourceVersion() != "42" || s.GetAnnotations() != nil || s.GetManagedFields() != nil {
		t.Errorf("metadata kept: %v", s.Object["metadata"])
	}
	if _, ok, _ := unstructured.NestedMap(s.Object, "spec", "privateKey"); ok {
		t.Errorf("spec.privateKey kept")
	}
	if _, ok, _ := unstructured.NestedString(s.Object, "status", "nextPrivateKeySecretName"); ok {
		t.Errorf("status.nextPrivateKeySecretName kept")
	}
	// The informer's tombstones pass unchanged.
	if got, _ := Strip("tombstone"); got != "tombstone" {
		t.Errorf("non-object changed: %v", got)
	}
}
