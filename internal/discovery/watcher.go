package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
)

// Logger is the subset of telegraf.Logger the watcher writes to.
type Logger interface {
	Errorf(format string, args ...any)
	Warnf(format string, args ...any)
	Infof(format string, args ...any)
}

type nopLogger struct{}

func (nopLogger) Errorf(string, ...any) {}
func (nopLogger) Warnf(string, ...any)  {}
func (nopLogger) Infof(string, ...any)  {}

// ErrStarted is returned by Start on a watcher that was already started.
var ErrStarted = errors.New("kubernetes discovery already started")

// Watcher keeps informer caches of the pods (and, optionally, Ingresses) that Settings select
// and turns them into targets on demand. Create it with New, then Start, Snapshot (any number
// of times, from any goroutine) and Stop.
type Watcher struct {
	s        *Settings
	log      Logger
	now      func() time.Time
	requests *atomic.Int64 // HTTP requests to the API; nil when the client does not count

	pods      []*informer
	ingresses []*informer
	rules     Rules

	mu           sync.Mutex
	syncDeadline time.Time // Start + SyncTimeout: gathers wait for the first LIST until then
	syncLogged   bool      // whether "not synced" was logged and "synced" is still owed
	cancel       context.CancelFunc
	wg           sync.WaitGroup
}

// informer is one LIST+WATCH stream (pods or Ingresses in one namespace, or in all) with the
// API errors it met since its last successful call.
type informer struct {
	what string // "pods in namespace web", "ingresses in all namespaces"
	inf  cache.SharedIndexInformer
	log  Logger

	mu   sync.Mutex
	errs []string // distinct errors since the last successful call, oldest first; at most maxErrs
}

// Options are the injectable parts of a Watcher.
type Options struct {
	// Now is the clock for the first-sync deadline; time.Now when nil.
	Now func() time.Time
	// Requests, when not nil, is the counter of HTTP requests the client made (see
	// NewClient); Snapshot reports it.
	Requests *atomic.Int64
}

// New prepares the informers; nothing talks to the API until Start.
func New(s *Settings, client kubernetes.Interface, log Logger, opts Options) *Watcher {
	w := &Watcher{
		s:        s,
		log:      log,
		now:      opts.Now,
		requests: opts.Requests,
		rules: Rules{
			Address:         s.Address,
			Ports:           s.Ports,
			PortNames:       s.PortNames,
			IncludeNotReady: s.IncludeNotReady,
		},
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.log == nil {
		w.log = nopLogger{}
	}
	tweak := func(o *metav1.ListOptions) {
		o.LabelSelector = s.LabelSelector
		o.FieldSelector = s.FieldSelector
	}
	for _, ns := range orAll(s.Namespaces) {
		lw := &cache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				tweak(&o)
				return client.CoreV1().Pods(ns).List(ctx, o)
			},
			WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				tweak(&o)
				return client.CoreV1().Pods(ns).Watch(ctx, o)
			},
		}
		w.pods = append(w.pods, w.newInformer("pods "+where(ns), lw, client, &corev1.Pod{}, podStripper(s.PortNames)))
	}
	if s.IngressDomains {
		for _, ns := range orAll(s.IngressNamespaces) {
			lw := &cache.ListWatch{
				ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
					return client.NetworkingV1().Ingresses(ns).List(ctx, o)
				},
				WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
					return client.NetworkingV1().Ingresses(ns).Watch(ctx, o)
				},
			}
			w.ingresses = append(w.ingresses, w.newInformer("ingresses "+where(ns), lw, client, &networkingv1.Ingress{}, stripIngress))
		}
	}
	return w
}

// orAll turns "no namespaces" into the one informer over all of them (metav1.NamespaceAll).
func orAll(namespaces []string) []string {
	if len(namespaces) == 0 {
		return []string{metav1.NamespaceAll}
	}
	return namespaces
}

func where(ns string) string {
	if ns == metav1.NamespaceAll {
		return "in all namespaces"
	}
	return "in namespace " + ns
}

func (w *Watcher) newInformer(what string, lw *cache.ListWatch, client kubernetes.Interface, example runtime.Object, transform cache.TransformFunc) *informer {
	in := &informer{what: what, log: w.log}
	// The wrapper lets the reflector stream the initial list (WatchList) when the client
	// supports it, and fall back to LIST when it does not (the fake clientset).
	in.inf = cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(in.observe(lw), client), example,
		cache.SharedIndexInformerOptions{ObjectDescription: what})
	// Both setters fail only after the informer has started, which it has not.
	_ = in.inf.SetTransform(transform)
	_ = in.inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) { in.failed(err) })
	return in
}

// observe wraps the list and watch calls: the reflector reports neither successes (needed to
// log a recovery) nor a refused connection when it re-opens a watch (it retries silently, so
// an API server outage would go unreported).
func (in *informer) observe(lw *cache.ListWatch) *cache.ListWatch {
	list, watchFn := lw.ListWithContextFunc, lw.WatchFuncWithContext
	lw.ListWithContextFunc = func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		obj, err := list(ctx, o)
		in.outcome(ctx, err)
		return obj, err
	}
	lw.WatchFuncWithContext = func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		wi, err := watchFn(ctx, o)
		in.outcome(ctx, err)
		return wi, err
	}
	return lw
}

// maxErrs bounds the distinct errors remembered between two successful calls.
const maxErrs = 4

// failed logs an API error the first time its text appears since the last successful call:
// the reflector retries with back-off and alternates between a streaming WATCH and a LIST, so
// one fault can show two texts (e.g. "cannot watch" and "cannot list"); each is logged once.
func (in *informer) failed(err error) {
	if errors.Is(err, io.EOF) || apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
		return // a watch that ended normally or must restart from a fresh list: not a fault
	}
	// The reflector prefixes list errors with what it lists; our message says it already.
	msg := strings.TrimPrefix(explain(err), "failed to list "+in.what+": ")
	in.mu.Lock()
	changed := !slices.Contains(in.errs, msg)
	if changed {
		in.errs = append(in.errs, msg)
		if len(in.errs) > maxErrs {
			in.errs = in.errs[len(in.errs)-maxErrs:]
		}
	}
	in.mu.Unlock()
	if changed {
		in.log.Errorf("kubernetes: watching %s: %s (retrying with back-off; targets come from the last known state)", in.what, msg)
	}
}

func (in *informer) outcome(ctx context.Context, err error) {
	switch {
	case err == nil:
		in.recovered()
	case ctx.Err() == nil:
		in.failed(err)
	}
}

func (in *informer) recovered() {
	in.mu.Lock()
	was := len(in.errs)
	in.errs = nil
	in.mu.Unlock()
	if was > 0 {
		in.log.Infof("kubernetes: watching %s: API reachable again", in.what)
	}
}

// err returns the distinct errors since the last successful call, sorted (so that the order
// in which the reflector alternated does not show), joined by "; "; "" when healthy.
func (in *informer) err() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	errs := slices.Clone(in.errs)
	slices.Sort(errs)
	return strings.Join(errs, "; ")
}

// explain adds what to do about the API errors a user can fix.
func explain(err error) string {
	msg := err.Error()
	// A transport error quotes the request URL, whose query (resourceVersion, a random
	// timeoutSeconds) changes at every retry: it would defeat "once per change".
	var uerr *url.Error
	if errors.As(err, &uerr) {
		msg = uerr.Err.Error()
	}
	switch {
	case apierrors.IsForbidden(err):
		return msg + ": grant list and watch on this resource to the plugin's identity (deploy/kubernetes/rbac.yaml)"
	case apierrors.IsUnauthorized(err):
		return msg + ": the API server rejected the credentials (expired or revoked token?)"
	}
	return msg
}

// Start runs the informers in the background until Stop or ctx ends. It does not wait for
// them to sync: Snapshot does, for a bounded time.
func (w *Watcher) Start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel != nil {
		return ErrStarted
	}
	ctx, w.cancel = context.WithCancel(ctx)
	w.syncDeadline = w.now().Add(w.s.SyncTimeout)
	for _, in := range append(slices.Clip(w.pods), w.ingresses...) {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			in.inf.RunWithContext(ctx)
		}()
	}
	return nil
}

// Stop stops the informers and waits for them to end. Safe to call more than once, and
// before Start.
func (w *Watcher) Stop() {
	w.mu.Lock()
	cancel := w.cancel
	w.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	w.wg.Wait()
}

// Snapshot is the state of discovery at one gather.
type Snapshot struct {
	// Targets are the pods to probe, one per (pod, address), in namespace/name order.
	Targets []target.Target
	// Stats counts pods, targets and skipped pods by reason.
	Stats Stats
	// Domains are the SNI names probed on every target: the configured ones, then the
	// Ingress TLS hosts (sorted, without duplicates, wildcards and ignored hosts).
	Domains []string
	// Synced is false while any informer has not completed its first LIST; the targets then
	// cover only the synced ones.
	Synced bool
	// Error lists the API errors since each informer's last successful call ("" when all
	// are healthy), each group prefixed by what was being watched, joined by "; ".
	Error string
	// Probes is the number of probes the targets make: the sum over targets of ports ×
	// domains, i.e. the cert_expiry rows a gather of them yields.
	Probes int
	// Requests is the number of HTTP requests made to the API since the client was built;
	// 0 when the client does not count them.
	Requests int64
}

// Snapshot reads the caches. Until the first LIST has completed it waits, at most until
// sync_timeout after Start and never beyond ctx; later calls never wait. It makes no API call.
func (w *Watcher) Snapshot(ctx context.Context) Snapshot {
	w.waitForSync(ctx)
	snap := Snapshot{Synced: true}
	if w.requests != nil {
		snap.Requests = w.requests.Load()
	}
	var errs []string
	for _, in := range append(slices.Clip(w.pods), w.ingresses...) {
		if !in.inf.HasSynced() {
			snap.Synced = false
		}
		if e := in.err(); e != "" {
			errs = append(errs, in.what+": "+e)
		}
	}
	snap.Error = strings.Join(errs, "; ")
	w.logSync(snap)

	snap.Domains = w.domains()
	var pods []*podInfo
	for _, in := range w.pods {
		if !in.inf.HasSynced() {
			continue // a partial list would make pods seem to vanish; report nothing instead
		}
		for _, obj := range in.inf.GetStore().List() {
			if pod, ok := obj.(*podInfo); ok {
				pods = append(pods, pod)
			}
		}
	}
	rules := w.rules
	rules.Domains = snap.Domains
	snap.Targets, snap.Stats = rules.targets(pods)
	if len(snap.Domains) == 0 {
		// Only possible with ingress_domains and no configured domains: nothing to send as
		// SNI, so nothing to probe yet.
		snap.Targets, snap.Stats.Targets = nil, 0
	}
	for i := range snap.Targets {
		snap.Probes += len(snap.Targets[i].Ports) * len(snap.Targets[i].Domains)
	}
	return snap
}

func (w *Watcher) waitForSync(ctx context.Context) {
	w.mu.Lock()
	deadline := w.syncDeadline
	w.mu.Unlock()
	if deadline.IsZero() {
		return // not started
	}
	for _, in := range append(slices.Clip(w.pods), w.ingresses...) {
		wait := deadline.Sub(w.now())
		if wait <= 0 {
			return
		}
		timer := time.NewTimer(wait)
		select {
		case <-in.inf.HasSyncedChecker().Done():
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
		if ctx.Err() != nil {
			return
		}
	}
}

// logSync logs a missing first sync once, and its arrival once.
func (w *Watcher) logSync(snap Snapshot) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case !snap.Synced && !w.syncLogged:
		w.syncLogged = true
		why := "the API server has not answered yet"
		if snap.Error != "" {
			why = snap.Error
		}
		w.log.Warnf("kubernetes: pod list not complete after waiting up to %s: no pod targets until it is (%s)", w.s.SyncTimeout, why)
	case snap.Synced && w.syncLogged:
		w.syncLogged = false
		w.log.Infof("kubernetes: pod list complete")
	}
}

// domains merges the configured domains with the Ingress TLS hosts.
func (w *Watcher) domains() []string {
	if len(w.ingresses) == 0 {
		return w.s.Domains
	}
	var hosts []string
	for _, in := range w.ingresses {
		for _, obj := range in.inf.GetStore().List() {
			ing, ok := obj.(*networkingv1.Ingress)
			if !ok {
				continue
			}
			for _, t := range ing.Spec.TLS {
				hosts = append(hosts, t.Hosts...)
			}
		}
	}
	return MergeDomains(w.s.Domains, hosts, w.s.Ignore)
}

// MergeDomains returns configured followed by the Ingress hosts that are not already there,
// not wildcards ("*.example.com" has no single name to send as SNI) and not matched by any
// ignore expression; hosts are lower-cased and sorted.
func MergeDomains(configured, ingressHosts []string, ignore []*regexp.Regexp) []string {
	out := slices.Clone(configured)
	seen := make(map[string]bool, len(configured)+len(ingressHosts))
	for _, d := range configured {
		seen[strings.ToLower(d)] = true
	}
	var extra []string
	for _, h := range ingressHosts {
		h = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
		if h == "" || strings.Contains(h, "*") || seen[h] || slices.ContainsFunc(ignore, func(re *regexp.Regexp) bool { return re.MatchString(h) }) {
			continue
		}
		seen[h] = true
		extra = append(extra, h)
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// String describes what the watcher watches, for start-up logs.
func (w *Watcher) String() string {
	var parts []string
	for _, in := range w.pods {
		parts = append(parts, in.what)
	}
	for _, in := range w.ingresses {
		parts = append(parts, in.what)
	}
	s := strings.Join(parts, ", ")
	if w.s.LabelSelector != "" {
		s += fmt.Sprintf(", label selector %q", w.s.LabelSelector)
	}
	if w.s.FieldSelector != "" {
		s += fmt.Sprintf(", field selector %q", w.s.FieldSelector)
	}
	return s
}
