package plugin

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/influxdata/telegraf"
	"k8s.io/client-go/kubernetes"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/discovery"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
)

// DiscoveryMeasurement is the name of the row each gather emits about Kubernetes discovery.
const DiscoveryMeasurement = "cert_expiry_discovery"

// kubernetesSource connects the plugin to Kubernetes discovery: Init validates the
// [inputs.certexpiry.kubernetes] table, Start starts the informers, each Gather reads their
// cache (and emits one cert_expiry_discovery row), Stop stops them.
type kubernetesSource struct {
	settings *discovery.Settings
	log      telegraf.Logger
	// newClient builds the API client; tests replace it with a fake clientset.
	newClient func(s *discovery.Settings, requests *atomic.Int64) (kubernetes.Interface, error)
	requests  atomic.Int64 // HTTP requests made to the API server since start
	watcher   *discovery.Watcher
}

// newKubernetesSource validates cfg (called from Init: no network). domains and ports are the
// plugin's top-level options: the pods are probed for those domains (plus Ingress hosts, if
// enabled) on those ports (unless the table sets its own ports or port_names).
func newKubernetesSource(cfg *discovery.Config, domains []string, ports []int, log telegraf.Logger) (*kubernetesSource, error) {
	s, err := discovery.Validate(cfg, domains, ports, nil)
	if err != nil {
		return nil, err
	}
	return &kubernetesSource{settings: s, log: log, newClient: buildClient}, nil
}

func buildClient(s *discovery.Settings, requests *atomic.Int64) (kubernetes.Interface, error) {
	cfg, err := discovery.RESTConfig(s, nil)
	if err != nil {
		return nil, err
	}
	return discovery.NewClient(cfg, requests)
}

// start builds the client (in-cluster, or from the kubeconfig) and starts the informers in the
// background (called from Start). It does not wait for the first LIST: the first gather does,
// up to sync_timeout. An unreachable or refusing API server is not an error here: it is
// logged, retried and reported in cert_expiry_discovery.
func (k *kubernetesSource) start(ctx context.Context) error {
	if k.watcher != nil {
		return discovery.ErrStarted
	}
	if k.log != nil {
		// client-go logs through klog straight to stderr, which execd would log as errors.
		discovery.RouteKlog(k.log)
	}
	client, err := k.newClient(k.settings, &k.requests)
	if err != nil {
		return err
	}
	k.watcher = discovery.New(k.settings, client, k.log, discovery.Options{Requests: &k.requests})
	if err := k.watcher.Start(ctx); err != nil {
		return err
	}
	if k.log != nil {
		k.log.Infof("kubernetes: watching %s", k.watcher)
	}
	return nil
}

// targets returns the current pod targets (called from Gather) and adds the
// cert_expiry_discovery row to acc, stamped at (the gather's time, like its cert_expiry rows).
// Before start it returns nothing and adds a row with synced = false.
func (k *kubernetesSource) targets(ctx context.Context, acc telegraf.Accumulator, at time.Time) []target.Target {
	snap := k.snapshot(ctx)
	acc.AddFields(DiscoveryMeasurement, discoveryFields(&snap), discoveryTags(k.settings), at)
	return snap.Targets
}

// snapshot returns discovery's current state, waiting for the first LIST up to sync_timeout;
// before start, an empty snapshot whose error says so.
func (k *kubernetesSource) snapshot(ctx context.Context) discovery.Snapshot {
	if k.watcher == nil {
		return discovery.Snapshot{Stats: discovery.NewStats(0), Error: errNotStarted.Error()}
	}
	return k.watcher.Snapshot(ctx)
}

var errNotStarted = errors.New("kubernetes discovery not started")

// stop stops the informers (called from Stop).
func (k *kubernetesSource) stop() {
	if k.watcher != nil {
		k.watcher.Stop()
	}
}

// discoveryTags: source ("kubernetes"), scope ("cluster" or "node"), and node in node scope.
func discoveryTags(s *discovery.Settings) map[string]string {
	t := map[string]string{"source": target.SourceKubernetes, "scope": s.Scope}
	if s.NodeName != "" {
		t["node"] = s.NodeName
	}
	return t
}

// discoveryFields describe one gather's discovery; every field keeps its type:
//   - pods: pods in the cache (after the API server's selectors); targets: pod addresses
//     returned; probes: targets × ports × domains; domains: SNI names probed on each target
//   - skipped_terminating, skipped_finished, skipped_no_ip, skipped_not_ready,
//     skipped_no_port, skipped_duplicate_address: pods that yielded no target, by reason
//   - synced: false until every informer's first LIST completed (then no pod targets)
//   - api_requests: HTTP requests made to the API server since start (counter)
//   - error: the current API error, only while there is one
func discoveryFields(snap *discovery.Snapshot) map[string]any {
	f := map[string]any{
		"pods":         int64(snap.Stats.Pods),
		"targets":      int64(snap.Stats.Targets),
		"probes":       int64(snap.Probes),
		"domains":      int64(len(snap.Domains)),
		"synced":       snap.Synced,
		"api_requests": snap.Requests,
	}
	for _, r := range discovery.AllReasons() {
		f["skipped_"+string(r)] = int64(snap.Stats.Skipped[r])
	}
	if snap.Error != "" {
		f["error"] = snap.Error
	}
	return f
}
