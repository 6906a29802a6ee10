package plugin

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/influxdata/telegraf"
	"k8s.io/client-go/dynamic"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certmanager"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/discovery"
)

// CertManagerMeasurement is the name of the rows the cert_manager table emits.
const CertManagerMeasurement = "certmanager_certificate"

// certManagerSource connects the plugin to cert-manager's Certificates: Init validates the
// [inputs.certexpiry.cert_manager] table, Start starts the informers, each Gather reads their
// cache (and emits one cert_expiry_discovery row with source "cert-manager"), Stop stops them.
type certManagerSource struct {
	cfg *certmanager.Config
	log telegraf.Logger
	// newClient builds the API client; tests replace it with a fake.
	newClient func(cfg *certmanager.Config, requests *atomic.Int64) (dynamic.Interface, error)
	requests  atomic.Int64
	watcher   *certmanager.Watcher
}

func newCertManagerSource(cfg *certmanager.Config, log telegraf.Logger) (*certManagerSource, error) {
	if err := cfg.Validate("cert_manager."); err != nil {
		return nil, err
	}
	return &certManagerSource{cfg: cfg, log: log, newClient: buildDynamicClient}, nil
}

// buildDynamicClient uses the credentials discovery uses (kube_config, kube_context,
// $KUBECONFIG, else in-cluster); the dynamic client speaks JSON, which is all a CRD serves.
func buildDynamicClient(cfg *certmanager.Config, requests *atomic.Int64) (dynamic.Interface, error) {
	rc, err := discovery.RESTConfig(&discovery.Settings{KubeConfig: cfg.KubeConfig, KubeContext: cfg.KubeContext}, nil)
	if err != nil {
		return nil, fmt.Errorf("cert_manager: %w", err)
	}
	c, err := dynamic.NewForConfig(discovery.CountRequests(rc, requests))
	if err != nil {
		return nil, fmt.Errorf("cert_manager: building the client: %w", err)
	}
	return c, nil
}

// start builds the client and starts the informers in the background (called from Start).
// A missing CRD, an unreachable or refusing API server is not an error here: it is logged,
// retried and reported in the discovery row.
func (s *certManagerSource) start(ctx context.Context) error {
	if s.watcher != nil {
		return certmanager.ErrStarted
	}
	if s.log != nil {
		discovery.RouteKlog(s.log)
	}
	client, err := s.newClient(s.cfg, &s.requests)
	if err != nil {
		return err
	}
	var log certmanager.Logger = nopLog{}
	if s.log != nil {
		log = s.log
	}
	s.watcher = certmanager.New(client, s.cfg.Namespaces, log)
	return s.watcher.Start(ctx)
}

func (s *certManagerSource) stop() {
	if s.watcher != nil {
		s.watcher.Stop()
	}
}

type nopLog struct{}

func (nopLog) Errorf(string, ...any) {}
func (nopLog) Infof(string, ...any)  {}

// gather adds one certmanager_certificate row per Certificate and DNS name, and the
// discovery row, all stamped at:
//   - tags: namespace, name, secret, domain, issuer (empty ones left out)
//   - fields: ready (bool) always; not_before, not_after, renewal_time (int, unix seconds) and
//     revision (int) once cert-manager has written them into the status
//
// The discovery row (cert_expiry_discovery, tag source "cert-manager") has certificates
// (int), synced (bool), installed (bool: false while the Certificate resource does not
// exist), api_requests (int, since start) and, while there is one, error (string).
func (s *certManagerSource) gather(acc telegraf.Accumulator, at time.Time) {
	var snap certmanager.Snapshot
	if s.watcher != nil {
		snap = s.watcher.Snapshot()
	} else {
		snap.Error = "cert-manager watcher not started"
	}
	for _, c := range snap.Certificates {
		f := map[string]any{"ready": c.Ready}
		if !c.NotBefore.IsZero() {
			f["not_before"] = c.NotBefore.Unix()
		}
		if !c.NotAfter.IsZero() {
			f["not_after"] = c.NotAfter.Unix()
		}
		if !c.RenewalTime.IsZero() {
			f["renewal_time"] = c.RenewalTime.Unix()
		}
		if c.Revision >= 0 {
			f["revision"] = c.Revision
		}
		names := c.DNSNames
		if len(names) == 0 {
			names = []string{""}
		}
		for _, d := range names {
			t := map[string]string{"namespace": c.Namespace, "name": c.Name}
			for k, v := range map[string]string{"secret": c.Secret, "domain": d, "issuer": c.Issuer} {
				if v != "" {
					t[k] = v
				}
			}
			acc.AddFields(CertManagerMeasurement, copyFields(f), t, at)
		}
	}
	df := map[string]any{
		"certificates": int64(len(snap.Certificates)),
		"synced":       snap.Synced,
		"installed":    !snap.NotInstalled,
		"api_requests": s.requests.Load(),
	}
	if snap.Error != "" {
		df["error"] = snap.Error
	}
	acc.AddFields(DiscoveryMeasurement, df, map[string]string{"source": "cert-manager"}, at)
}
