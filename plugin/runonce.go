package plugin

import (
	"context"
	"errors"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/discovery"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/probe"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
)

// Run is what one RunOnce found besides the probe results themselves.
type Run struct {
	// At is the gather's clock reading: the timestamp Telegraf's rows would carry.
	At time.Time
	// Probes is the number of results passed to the callback: targets × ports × domains.
	Probes int
	// Discovery is Kubernetes discovery's state at the gather (pods, skipped pods by reason,
	// synced, API errors); nil without an [inputs.certexpiry.kubernetes] table.
	Discovery *discovery.Snapshot

	discoveryTags map[string]string
}

// DiscoveryRow returns the cert_expiry_discovery row's tags and fields, as Gather adds them;
// ok is false without Kubernetes discovery.
func (r *Run) DiscoveryRow() (tags map[string]string, fields map[string]any, ok bool) {
	if r.Discovery == nil {
		return nil, nil, false
	}
	return r.discoveryTags, discoveryFields(r.Discovery), true
}

// ResultRow returns the tags, then the fields, of the cert_expiry row Gather adds for r.
func ResultRow(r *probe.Result) (map[string]string, map[string]any) {
	return tags(r), fields(r)
}

var errRunOnceBeforeInit = errors.New("RunOnce called before Init")

// RunOnce runs the plugin once outside Telegraf, for the check command: it starts discovery
// (if configured), probes every target exactly as one Gather would — same targets, options,
// gather_timeout budget and clock — passes each probe's result to emit, one at a time, and
// stops. Call Init first. The certbot spool is not read: draining it is Telegraf's job.
//
// emit is called from the calling goroutine, once per probe, in the order of the targets
// (static targets as configured, then pods), after the last probe has ended: unlike Gather,
// which streams, RunOnce holds every result until then, which suits a check of a handful of
// targets and keeps its table in the order they were given. ctx ends the run early: probes
// not started by then report StatusTimeout, as in Gather.
func (c *CertExpiry) RunOnce(ctx context.Context, emit func(probe.Result)) (Run, error) {
	if c.prober == nil {
		return Run{}, errRunOnceBeforeInit
	}
	if err := c.start(); err != nil {
		return Run{}, err
	}
	defer c.Stop()
	run := Run{At: c.now()}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(c.GatherTimeout))
	defer cancel()

	targets := c.static
	if c.kube != nil {
		snap := c.kube.snapshot(ctx)
		run.Discovery = &snap
		run.discoveryTags = discoveryTags(c.kube.settings)
		targets = append(targets[:len(targets):len(targets)], snap.Targets...)
	}
	probes := target.Expand(targets)
	run.Probes = len(probes)
	for _, r := range c.prober.Run(ctx, probes, c.MaxConcurrency) {
		emit(r)
	}
	return run, nil
}
