// Package certmanager watches cert-manager's Certificates (cert-manager.io/v1) through a
// dynamic informer and reports what each one stores: its DNS names, Secret, issuer and the
// validity cert-manager's readiness controller copies into its status from the Secret. It
// needs list and watch on certificates.cert-manager.io only: no Secret is ever read, and no
// cert-manager Go type is imported (the objects are read as unstructured).
//
// When the Certificate resource is not installed, the informer's LIST answers 404: the
// watcher logs that once, reports it in Snapshot, and keeps retrying with the reflector's
// back-off (at most 30 s), so it starts working when cert-manager is installed.
//
// The package does not import Telegraf: the plugin turns a Snapshot into rows.
package certmanager

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/watchlist"
)

// Certificates is the resource watched.
var Certificates = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}

// Config is the [inputs.certexpiry.cert_manager] table. The zero value means: in-cluster
// credentials, all namespaces.
type Config struct {
	// KubeConfig is a kubeconfig file. Empty: the standard loading rules when $KUBECONFIG is
	// set or KubeContext is given, otherwise the in-cluster service account.
	KubeConfig string `toml:"kube_config"`
	// KubeContext selects a context of the kubeconfig; empty means its current-context.
	KubeContext string `toml:"kube_context"`
	// Namespaces to watch, one informer each; empty means all namespaces (one informer).
	Namespaces []string `toml:"namespaces"`
}

// Validate checks the table without touching the network; option names are prefixed with
// prefix (e.g. "cert_manager.").
func (c *Config) Validate(prefix string) error {
	for i, ns := range c.Namespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return fmt.Errorf("%snamespaces[%d]: %q is not a namespace name: %s", prefix, i, ns, strings.Join(errs, "; "))
		}
	}
	return nil
}

// Logger is what the watcher logs through (Telegraf's logger satisfies it).
type Logger interface {
	Errorf(format string, args ...any)
	Infof(format string, args ...any)
}

// Certificate is what one Certificate stores. Times are zero and Revision is -1 while its
// status does not have them (a Certificate not yet issued).
type Certificate struct {
	Namespace, Name string
	Secret          string   // spec.secretName
	Issuer          string   // spec.issuerRef.name
	DNSNames        []string // spec.dnsNames; failing those, spec.commonName
	NotBefore       time.Time
	NotAfter        time.Time
	RenewalTime     time.Time
	Revision        int64
	Ready           bool // status.conditions[type=Ready].status == "True"
}

// Parse reads a Certificate from its unstructured form. Fields of the wrong type or format
// are treated as absent: the object was accepted by the API server's schema, so that only
// happens with a CRD other than cert-manager's.
func Parse(u *unstructured.Unstructured) Certificate {
	c := Certificate{Namespace: u.GetNamespace(), Name: u.GetName(), Revision: -1}
	o := u.Object
	c.Secret, _, _ = unstructured.NestedString(o, "spec", "secretName")
	c.Issuer, _, _ = unstructured.NestedString(o, "spec", "issuerRef", "name")
	c.DNSNames, _, _ = unstructured.NestedStringSlice(o, "spec", "dnsNames")
	if len(c.DNSNames) == 0 {
		if cn, _, _ := unstructured.NestedString(o, "spec", "commonName"); cn != "" {
			c.DNSNames = []string{cn}
		}
	}
	c.NotBefore = nestedTime(o, "status", "notBefore")
	c.NotAfter = nestedTime(o, "status", "notAfter")
	c.RenewalTime = nestedTime(o, "status", "renewalTime")
	if r, ok, _ := unstructured.NestedInt64(o, "status", "revision"); ok {
		c.Revision = r
	}
	conds, _, _ := unstructured.NestedSlice(o, "status", "conditions")
	for _, cd := range conds {
		m, ok := cd.(map[string]any)
		if ok && m["type"] == "Ready" {
			c.Ready = m["status"] == "True"
		}
	}
	return c
}

// Strip reduces a Certificate to what Parse reads (and what the informer's store needs:
// name, namespace, resourceVersion), so that the cache holds no managedFields, annotations,
// private key settings or other status: memory follows the number of Certificates and names.
// Objects other than *unstructured.Unstructured (the informer's tombstones) pass unchanged.
func Strip(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	out := &unstructured.Unstructured{Object: map[string]any{}}
	out.SetAPIVersion(u.GetAPIVersion())
	out.SetKind(u.GetKind())
	out.SetNamespace(u.GetNamespace())
	out.SetName(u.GetName())
	out.SetResourceVersion(u.GetResourceVersion())
	out.SetUID(u.GetUID())
	copyField := func(fields ...string) {
		if v, ok, _ := unstructured.NestedFieldNoCopy(u.Object, fields...); ok {
			_ = unstructured.SetNestedField(out.Object, v, fields...)
		}
	}
	for _, f := range [][]string{
		{"spec", "secretName"}, {"spec", "dnsNames"}, {"spec", "commonName"}, {"spec", "issuerRef", "name"},
		{"status", "notBefore"}, {"status", "notAfter"}, {"status", "renewalTime"}, {"status", "revision"},
	} {
		copyField(f...)
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, cd := range conds {
		if m, ok := cd.(map[string]any); ok && m["type"] == "Ready" {
			_ = unstructured.SetNestedSlice(out.Object, []any{map[string]any{"type": "Ready", "status": m["status"]}}, "status", "conditions")
		}
	}
	return out, nil
}

func nestedTime(o map[string]any, fields ...string) time.Time {
	s, ok, _ := unstructured.NestedString(o, fields...)
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Snapshot is the watcher's view at one moment.
type Snapshot struct {
	Certificates []Certificate // sorted by namespace, then name
	// Synced: every informer's first LIST completed.
	Synced bool
	// NotInstalled: the last LIST answered 404, the Certificate resource does not exist.
	NotInstalled bool
	// Error is the current API error other than NotInstalled; "" when healthy.
	Error string
}

// Watcher runs one informer per namespace (or one for all).
type Watcher struct {
	client     dynamic.Interface
	namespaces []string
	log        Logger

	informers []cache.SharedIndexInformer
	cancel    context.CancelFunc
	done      sync.WaitGroup

	mu           sync.Mutex
	notInstalled bool
	err          string
}

// New prepares a watcher; Start starts it. namespaces nil or empty means all namespaces.
func New(client dynamic.Interface, namespaces []string, log Logger) *Watcher {
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	return &Watcher{client: client, namespaces: namespaces, log: log}
}

// ErrStarted is returned by a second Start.
var ErrStarted = errors.New("cert-manager watcher already started")

// Start starts the informers in the background; it does not wait for their first LIST.
func (w *Watcher) Start(ctx context.Context) error {
	if w.informers != nil {
		return ErrStarted
	}
	ctx, w.cancel = context.WithCancel(ctx)
	observed := observedClient{Interface: w.client, w: w}
	for _, ns := range w.namespaces {
		inf := dynamicinformer.NewFilteredDynamicInformer(observed, Certificates, ns, 0, cache.Indexers{}, nil).Informer()
		// Fails only once the informer has started, which it has not.
		_ = inf.SetTransform(Strip)
		// The reflector reports the errors observedClient has seen already, prefixed with what
		// it lists; without the prefix they are the same text and logged once.
		_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
			w.outcome(trimmed{err})
		})
		w.informers = append(w.informers, inf)
		w.done.Add(1)
		go func() {
			defer w.done.Done()
			inf.RunWithContext(ctx)
		}()
	}
	return nil
}

// Stop stops the informers and waits for them.
func (w *Watcher) Stop() {
	if w.cancel != nil {
		w.cancel()
		w.done.Wait()
	}
}

// Snapshot reads the informers' caches; it never calls the API.
func (w *Watcher) Snapshot() Snapshot {
	var s Snapshot
	s.Synced = len(w.informers) > 0
	for _, inf := range w.informers {
		if !inf.HasSynced() {
			s.Synced = false
		}
		for _, obj := range inf.GetStore().List() {
			if u, ok := obj.(*unstructured.Unstructured); ok {
				s.Certificates = append(s.Certificates, Parse(u))
			}
		}
	}
	sort.Slice(s.Certificates, func(i, j int) bool {
		a, b := s.Certificates[i], s.Certificates[j]
		return a.Namespace < b.Namespace || a.Namespace == b.Namespace && a.Name < b.Name
	})
	w.mu.Lock()
	s.NotInstalled, s.Error = w.notInstalled, w.err
	w.mu.Unlock()
	return s
}

// outcome records the result of a LIST or WATCH, logging each change of state once.
func (w *Watcher) outcome(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err == nil:
		if w.notInstalled {
			w.log.Infof("cert-manager: the Certificate resource (%s) is installed now; watching Certificates", resourceName)
		} else if w.err != "" {
			w.log.Infof("cert-manager: watching Certificates: API reachable again")
		}
		w.notInstalled, w.err = false, ""
	case apierrors.IsNotFound(err):
		if !w.notInstalled {
			w.log.Errorf("cert-manager: the Certificate resource (%s) is not installed in this cluster: no certmanager_certificate rows until it is (checking again with back-off)", resourceName)
		}
		w.notInstalled, w.err = true, ""
	case errors.Is(err, context.Canceled) || apierrors.IsResourceExpired(err) || apierrors.IsGone(err):
		// Stopping, or a watch that must restart from a fresh list: not a fault.
	default:
		msg := err.Error()
		if msg != w.err {
			w.log.Errorf("cert-manager: watching Certificates: %s (retrying with back-off; rows come from the last known state)", msg)
		}
		w.err = msg
	}
}

const resourceName = "certificates.cert-manager.io/v1"

// trimmed is a reflector error without its "failed to list …: " prefix.
type trimmed struct{ error }

func (t trimmed) Error() string {
	return strings.TrimPrefix(t.error.Error(), "failed to list "+Certificates.String()+": ")
}

func (t trimmed) Unwrap() error { return t.error }

// observedClient reports every LIST and WATCH outcome to the watcher: the reflector reports
// failures only, and a recovery (the resource installed after all) must be seen too.
type observedClient struct {
	dynamic.Interface
	w *Watcher
}

// IsWatchListSemanticsUnSupported passes on what the wrapped client says, so that the
// reflector still falls back to LIST for clients that cannot stream a list (fakes in tests).
func (c observedClient) IsWatchListSemanticsUnSupported() bool {
	return watchlist.DoesClientNotSupportWatchListSemantics(c.Interface)
}

func (c observedClient) Resource(r schema.GroupVersionResource) dynamic.NamespaceableResourceInterface {
	return observedResource{NamespaceableResourceInterface: c.Interface.Resource(r), w: c.w}
}

type observedResource struct {
	dynamic.NamespaceableResourceInterface
	w *Watcher
}

func (r observedResource) Namespace(ns string) dynamic.ResourceInterface {
	return observedNamespaced{ResourceInterface: r.NamespaceableResourceInterface.Namespace(ns), w: r.w}
}

type observedNamespaced struct {
	dynamic.ResourceInterface
	w *Watcher
}

func (r observedNamespaced) List(ctx context.Context, o metav1.ListOptions) (*unstructured.UnstructuredList, error) {
	l, err := r.ResourceInterface.List(ctx, o)
	if ctx.Err() == nil {
		r.w.outcome(err)
	}
	return l, err
}

func (r observedNamespaced) Watch(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	wi, err := r.ResourceInterface.Watch(ctx, o)
	if ctx.Err() == nil {
		r.w.outcome(err)
	}
	return wi, err
}
