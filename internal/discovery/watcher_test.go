package discovery

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/duration"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testwait"
)

// recLog records log lines as "E! text", "W! text", "I! text".
type recLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *recLog) add(level, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level+" "+fmt.Sprintf(format, args...))
}
func (l *recLog) Errorf(f string, a ...any) { l.add("E!", f, a...) }
func (l *recLog) Warnf(f string, a ...any)  { l.add("W!", f, a...) }
func (l *recLog) Infof(f string, a ...any)  { l.add("I!", f, a...) }
func (l *recLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// eventually polls cond until it holds: informers apply events asynchronously.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, what, 20*time.Millisecond, cond)
}

func settings(t *testing.T, cfg Config, domains ...string) *Settings {
	t.Helper()
	s, err := Validate(&cfg, domains, []int{443}, env())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startWatcher(t *testing.T, s *Settings, client *fake.Clientset, log Logger) *Watcher {
	t.Helper()
	w := New(s, client, log, Options{})
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return w
}

// watchTracker counts the WATCH streams the fake clientset has opened, per resource and
// namespace. The fake's object tracker delivers only the changes made after a watch is
// registered (it replays nothing from a resourceVersion), so a change made while an informer is
// between its LIST and its WATCH is lost for good. A test that changes objects after Start
// waits for the watch first.
type watchTracker struct {
	mu     sync.Mutex
	opened map[string]int // "pods/web" → watches opened
}

// trackWatches installs the counting watch reactor; call it before the watcher starts.
func trackWatches(client *fake.Clientset) *watchTracker {
	wt := &watchTracker{opened: map[string]int{}}
	client.PrependWatchReactor("*", func(a k8stesting.Action) (bool, watch.Interface, error) {
		var opts metav1.ListOptions
		if wa, ok := a.(k8stesting.WatchActionImpl); ok {
			opts = wa.ListOptions
		}
		// Register the watch with the tracker here, as the default reactor would, so that it
		// is in place before it is counted.
		w, err := client.Tracker().Watch(a.GetResource(), a.GetNamespace(), opts)
		if err != nil {
			return true, nil, err
		}
		wt.mu.Lock()
		wt.opened[a.GetResource().Resource+"/"+a.GetNamespace()]++
		wt.mu.Unlock()
		return true, w, nil
	})
	return wt
}

// wait returns once a watch of resource in namespace ("" for all) is open.
func (wt *watchTracker) wait(t *testing.T, resource, namespace string) {
	t.Helper()
	eventually(t, "a WATCH of "+resource+" in namespace "+namespace, func() bool {
		wt.mu.Lock()
		defer wt.mu.Unlock()
		return wt.opened[resource+"/"+namespace] > 0
	})
}

func podNames(ts []target.Target) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Namespace+"/"+t.Pod+"@"+t.Address)
	}
	return out
}

func TestWatcherFollowsPodChanges(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(
		testPod("web", "web-0", "127.0.0.2"),
		testPod("web", "web-1", "127.0.0.3"),
		testPod("other", "x", "127.0.0.9"),
	)
	log := &recLog{}
	watches := trackWatches(client)
	w := startWatcher(t, settings(t, Config{Namespaces: []string{"web"}}, "example.com"), client, log)

	snap := w.Snapshot(ctx)
	if !snap.Synced || snap.Error != "" || snap.Requests != 0 || snap.Probes != 2 {
		t.Fatalf("first snapshot: synced %v, error %q, requests %d, probes %d", snap.Synced, snap.Error, snap.Requests, snap.Probes)
	}
	want := []target.Target{
		kt("web", "web-0", "node-1", "127.0.0.2", []int{443}, "example.com"),
		kt("web", "web-1", "node-1", "127.0.0.3", []int{443}, "example.com"),
	}
	if !reflect.DeepEqual(snap.Targets, want) {
		t.Fatalf("targets %+v", snap.Targets)
	}
	if snap.Stats.Pods != 2 || snap.Stats.Targets != 2 || !reflect.DeepEqual(snap.Domains, []string{"example.com"}) {
		t.Fatalf("stats %+v, domains %v", snap.Stats, snap.Domains)
	}

	// web-1 stops being ready, web-0 goes away, web-2 arrives.
	watches.wait(t, "pods", "web")
	p := testPod("web", "web-1", "127.0.0.3", notReady)
	if _, err := client.CoreV1().Pods("web").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := client.CoreV1().Pods("web").Delete(ctx, "web-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Pods("web").Create(ctx, testPod("web", "web-2", "127.0.0.4"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "snapshot shows web-2 only", func() bool {
		return reflect.DeepEqual(podNames(w.Snapshot(ctx).Targets), []string{"web/web-2@127.0.0.4"})
	})
	snap = w.Snapshot(ctx)
	if want := skipped(ReasonNotReady, 1); !reflect.DeepEqual(snap.Stats.Skipped, want) || snap.Stats.Pods != 2 {
		t.Fatalf("stats %+v", snap.Stats)
	}
	if got := log.all(); len(got) != 0 {
		t.Fatalf("unexpected log lines %q", got)
	}
}

func TestWatcherCachesStrippedPods(t *testing.T) {
	pod := testPod("web", "web-0", "127.0.0.2")
	pod.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": strings.Repeat("x", 4096)}
	client := fake.NewClientset(pod)
	w := startWatcher(t, settings(t, Config{}, "example.com"), client, &recLog{})
	w.Snapshot(context.Background())
	objs := w.pods[0].inf.GetStore().List()
	if len(objs) != 1 {
		t.Fatalf("%d pods cached", len(objs))
	}
	want := &podInfo{Namespace: "web", Name: "web-0", Node: "node-1", Ready: true, PodIPs: []string{"127.0.0.2"}, HostIPs: []string{"127.0.0.100"}}
	if !reflect.DeepEqual(objs[0], want) {
		t.Fatalf("cached %+v, want %+v", objs[0], want)
	}
}

func TestWatcherAPIErrorLoggedOncePerChangeAndRecovery(t *testing.T) {
	client := fake.NewClientset(testPod("web", "web-0", "127.0.0.2"))
	var failures atomic.Int32
	var mode atomic.Pointer[error] // the error the next LIST returns; nil: succeed
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New(`User "telegraf" cannot list resource "pods" in API group "" at the cluster scope`))
	mode.Store(ptr(error(forbidden)))
	client.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if err := mode.Load(); err != nil {
			failures.Add(1)
			return true, nil, *err
		}
		return false, nil, nil
	})
	log := &recLog{}
	s := settings(t, Config{SyncTimeout: duration.Duration(50 * time.Millisecond)}, "example.com")
	w := startWatcher(t, s, client, log)

	// Two failed LISTs: the retry repeats the error, which is logged once. (The reflector backs
	// off 0.8 s, 1.6 s, 3.2 s, ... with jitter up to double: every further retry waited for
	// costs seconds.)
	eventually(t, "the reflector retries the LIST", func() bool { return failures.Load() >= 2 })
	snap := w.Snapshot(context.Background())
	wantErr := `pods in all namespaces: pods is forbidden: User "telegraf" cannot list resource "pods" in API group "" at the cluster scope: grant list and watch on this resource to the plugin's identity (deploy/kubernetes/rbac.yaml)`
	if snap.Synced || snap.Targets != nil || snap.Error != wantErr {
		t.Fatalf("synced %v, targets %v, error:\n got %q\nwant %q", snap.Synced, snap.Targets, snap.Error, wantErr)
	}
	w.Snapshot(context.Background()) // a second gather logs nothing new
	wantLog := []string{
		`E! kubernetes: watching pods in all namespaces: pods is forbidden: User "telegraf" cannot list resource "pods" in API group "" at the cluster scope: grant list and watch on this resource to the plugin's identity (deploy/kubernetes/rbac.yaml) (retrying with back-off; targets come from the last known state)`,
		`W! kubernetes: pod list not complete after waiting up to 50ms: no pod targets until it is (` + wantErr + `)`,
	}
	if got := log.all(); !reflect.DeepEqual(got, wantLog) {
		t.Fatalf("log after %d failures:\n got %q\nwant %q", failures.Load(), got, wantLog)
	}

	// A different error is a change: logged once more.
	mode.Store(ptr(error(apierrors.NewUnauthorized("Unauthorized"))))
	eventually(t, "the new error is logged", func() bool { return len(log.all()) == 3 })
	if got := log.all()[2]; got != `E! kubernetes: watching pods in all namespaces: Unauthorized: the API server rejected the credentials (expired or revoked token?) (retrying with back-off; targets come from the last known state)` {
		t.Fatalf("log line %q", got)
	}

	// The API answers again: the informer recovers by itself.
	mode.Store(nil)
	eventually(t, "the cache syncs", func() bool { return w.Snapshot(context.Background()).Synced })
	snap = w.Snapshot(context.Background())
	if snap.Error != "" || !reflect.DeepEqual(podNames(snap.Targets), []string{"web/web-0@127.0.0.2"}) {
		t.Fatalf("after recovery: error %q, targets %v", snap.Error, podNames(snap.Targets))
	}
	wantTail := []string{"I! kubernetes: watching pods in all namespaces: API reachable again", "I! kubernetes: pod list complete"}
	if got := log.all()[3:]; !reflect.DeepEqual(got, wantTail) {
		t.Fatalf("log after recovery %q", got)
	}
}

func TestWatcherIngressDomains(t *testing.T) {
	ctx := context.Background()
	ing := func(ns, name string, hosts ...string) *networkingv1.Ingress {
		return &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       networkingv1.IngressSpec{TLS: []networkingv1.IngressTLS{{Hosts: hosts, SecretName: "tls"}}},
		}
	}
	client := fake.NewClientset(
		testPod("ingress-nginx", "ctrl-0", "127.0.0.2"),
		ing("shop", "shop", "shop.example.com", "*.shop.example.com"),
		ing("blog", "blog", "blog.example.com", "blog.staging.example.com"),
		ing("hidden", "h", "hidden.example.com"),
	)
	s := settings(t, Config{
		Namespaces:        []string{"ingress-nginx"},
		IngressDomains:    true,
		IngressNamespaces: []string{"shop", "blog"},
		IgnoreDomains:     []string{`.*\.staging\.example\.com`},
	}, "example.com")
	watches := trackWatches(client)
	w := startWatcher(t, s, client, &recLog{})
	snap := w.Snapshot(ctx)
	wantDomains := []string{"example.com", "blog.example.com", "shop.example.com"}
	if !snap.Synced || !reflect.DeepEqual(snap.Domains, wantDomains) {
		t.Fatalf("synced %v, domains %v", snap.Synced, snap.Domains)
	}
	if want := []target.Target{kt("ingress-nginx", "ctrl-0", "node-1", "127.0.0.2", []int{443}, wantDomains...)}; !reflect.DeepEqual(snap.Targets, want) {
		t.Fatalf("targets %+v", snap.Targets)
	}

	watches.wait(t, "ingresses", "shop")
	if _, err := client.NetworkingV1().Ingresses("shop").Create(ctx, ing("shop", "new", "new.example.com"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new ingress host is probed", func() bool {
		return reflect.DeepEqual(w.Snapshot(ctx).Domains, []string{"example.com", "blog.example.com", "new.example.com", "shop.example.com"})
	})
}

func TestWatcherIngressOnlyDomainsWithoutIngressesProbesNothing(t *testing.T) {
	client := fake.NewClientset(testPod("web", "web-0", "127.0.0.2"))
	w := startWatcher(t, settings(t, Config{IngressDomains: true}), client, &recLog{})
	snap := w.Snapshot(context.Background())
	if !snap.Synced || snap.Targets != nil || snap.Stats.Targets != 0 || snap.Stats.Pods != 1 {
		t.Fatalf("snapshot %+v", snap)
	}
}

func TestWatcherSnapshotBeforeStartAndDoubleStart(t *testing.T) {
	client := fake.NewClientset(testPod("web", "web-0", "127.0.0.2"))
	w := New(settings(t, Config{}, "example.com"), client, &recLog{}, Options{})
	defer w.Stop()
	if snap := w.Snapshot(context.Background()); snap.Synced || snap.Targets != nil {
		t.Fatalf("snapshot before Start: %+v", snap)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v", err)
	}
}

func TestWatcherSnapshotWaitEndsWithContext(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	w := startWatcher(t, settings(t, Config{SyncTimeout: duration.Duration(time.Hour)}, "example.com"), client, &recLog{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if snap := w.Snapshot(ctx); snap.Synced {
		t.Fatal("synced without a successful LIST")
	}
}

func ptr[T any](v T) *T { return &v }
