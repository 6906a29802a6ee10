// Package plugin is the certexpiry Telegraf input: it probes the TLS certificate served by
// every target (static hosts and Kubernetes pods) for every configured domain and emits one
// cert_expiry row per probe. It runs as a service input under Telegraf's execd shim.
package plugin

import (
	"context"
	_ "embed"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/inputs"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certmanager"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/discovery"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/duration"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/probe"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
)

//go:embed sample.conf
var sampleConfig string

// Name is the plugin's name in [[inputs.NAME]].
const Name = "certexpiry"

// Defaults for options left unset.
const (
	DefaultPort           = 443
	DefaultTimeout        = probe.DefaultTimeout
	DefaultGatherTimeout  = 30 * time.Second
	DefaultMaxConcurrency = probe.DefaultConcurrency
)

// CertExpiry is the plugin. Its exported fields are the TOML options.
type CertExpiry struct {
	Domains        []string          `toml:"domains"`
	Ports          []int             `toml:"ports"`
	Timeout        duration.Duration `toml:"timeout"`
	GatherTimeout  duration.Duration `toml:"gather_timeout"`
	MaxConcurrency int               `toml:"max_concurrency"`
	TLSCA          string            `toml:"tls_ca"`
	TLSCert        string            `toml:"tls_cert"`
	TLSKey         string            `toml:"tls_key"`
	CertbotSpool   string            `toml:"certbot_spool"`
	Files          []string          `toml:"files"` // glob patterns of certificate files; see files.go
	Targets        []StaticTarget    `toml:"target"`
	Kubernetes     *discovery.Config `toml:"kubernetes"`

	// CertManager watches cert-manager's Certificates; see certmanager.go.
	CertManager *certmanager.Config `toml:"cert_manager"`

	// TLSKeyPwd decrypts an encrypted (PKCS#8) tls_key.
	TLSKeyPwd string `toml:"tls_key_pwd"`
	// CAFile is tls_ca's former name, accepted for one release with a warning.
	CAFile string `toml:"ca_file"`

	Log telegraf.Logger `toml:"-"`

	// now is the clock for row timestamps and certificate judgement; tests inject one.
	now     func() time.Time
	dialer  probe.Dialer
	prober  *probe.Prober
	static  []target.Target
	kube    *kubernetesSource
	certMgr *certManagerSource
	cancel  context.CancelFunc
	started context.Context
	overrun overrunWatch
}

// StaticTarget is one [[inputs.certexpiry.target]] entry: a host outside Kubernetes.
type StaticTarget struct {
	// Address is an IP address or host name, without port.
	Address string `toml:"address"`
	// Domains overrides the plugin-level domains for this target.
	Domains []string `toml:"domains"`
	// Ports overrides the plugin-level ports for this target.
	Ports []int `toml:"ports"`
}

// New returns the plugin with its defaults, as Telegraf's registry creates it.
func New() *CertExpiry {
	return &CertExpiry{
		Ports:          []int{DefaultPort},
		Timeout:        duration.Duration(DefaultTimeout),
		GatherTimeout:  duration.Duration(DefaultGatherTimeout),
		MaxConcurrency: DefaultMaxConcurrency,
	}
}

func init() {
	inputs.Add(Name, func() telegraf.Input { return New() })
}

// SetClock replaces the clock that timestamps rows and judges certificates (time.Now by
// default). Call it before Init.
func (c *CertExpiry) SetClock(now func() time.Time) { c.now = now }

// SampleConfig returns the annotated example configuration.
func (*CertExpiry) SampleConfig() string { return sampleConfig }

// Init validates the options and prepares the prober; it touches no network.
func (c *CertExpiry) Init() error {
	if c.now == nil {
		c.now = time.Now
	}
	if err := c.validate(); err != nil {
		return err
	}
	cfg, err := c.proberConfig()
	if err != nil {
		return err
	}
	c.prober = probe.New(cfg)
	c.static = c.staticTargets()
	if c.Kubernetes != nil {
		k, err := newKubernetesSource(c.Kubernetes, c.Domains, c.Ports, c.Log)
		if err != nil {
			return err
		}
		c.kube = k
	}
	if c.CertManager != nil {
		if c.certMgr, err = newCertManagerSource(c.CertManager, c.Log); err != nil {
			return err
		}
	}
	return nil
}

// Start logs what the plugin will probe (one info line) and starts Kubernetes discovery, if
// configured; it does not wait for it to sync.
func (c *CertExpiry) Start(telegraf.Accumulator) error {
	if c.Log != nil {
		c.Log.Info(c.startupSummary())
	}
	return c.start()
}

// start is Start without the start-up line, for RunOnce (the check command prints its own).
func (c *CertExpiry) start() error {
	ctx, cancel := context.WithCancel(context.Background())
	c.started, c.cancel = ctx, cancel
	if c.kube != nil {
		if err := c.kube.start(ctx); err != nil {
			cancel()
			return err
		}
	}
	if c.certMgr != nil {
		if err := c.certMgr.start(ctx); err != nil {
			cancel()
			return err
		}
	}
	return nil
}

// Stop stops discovery and any gather still running.
func (c *CertExpiry) Stop() {
	if c.kube != nil {
		c.kube.stop()
	}
	if c.certMgr != nil {
		c.certMgr.stop()
	}
	if c.cancel != nil {
		c.cancel()
	}
}

// Gather probes every target once and adds one cert_expiry row per (target, port, domain).
// Each row is added as soon as its probe ends, from the worker that ran it, so rows arrive in
// completion order and no probe's chain outlives its row: memory follows max_concurrency, not
// the number of probes. Every row of one gather carries the gather's start time. Gather
// returns within gather_timeout (plus the time to emit rows): probes not started by then are
// reported with status "timeout". Nothing is carried over from earlier gathers.
func (c *CertExpiry) Gather(acc telegraf.Accumulator) error {
	at := c.now()
	c.warnOverrun(c.overrun.begin(at))
	defer func() { c.warnOverrun(c.overrun.end(c.now())) }()
	parent := c.started
	if parent == nil { // Gather without Start, as in Telegraf's --test of a plain input.
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, time.Duration(c.GatherTimeout))
	defer cancel()

	targets := c.static
	if c.kube != nil {
		targets = append(targets[:len(targets):len(targets)], c.kube.targets(ctx, acc, at)...)
	}
	// Telegraf's accumulators are safe for concurrent use.
	c.prober.Stream(ctx, target.Expand(targets), c.MaxConcurrency, func(_ int, r *probe.Result) {
		acc.AddFields(Measurement, fields(r), tags(r), at)
	})
	if len(c.Files) > 0 {
		gatherFiles(c.Files, acc, at)
	}
	if c.certMgr != nil {
		c.certMgr.gather(acc, at)
	}
	if c.CertbotSpool != "" {
		if err := gatherCertbotSpool(c.CertbotSpool, acc); err != nil {
			acc.AddError(err)
		}
	}
	return nil
}

// warnOverrun logs an overrun warning, if there is one, with what to change.
func (c *CertExpiry) warnOverrun(warning string) {
	if warning != "" && c.Log != nil {
		c.Log.Warn(warning + c.overrunAdvice())
	}
}

// staticTargets turns the [[inputs.certexpiry.target]] entries into targets, filling in the
// plugin-level domains and ports.
func (c *CertExpiry) staticTargets() []target.Target {
	out := make([]target.Target, 0, len(c.Targets))
	for _, st := range c.Targets {
		t := target.Target{Source: target.SourceStatic, Address: st.Address, Ports: st.Ports, Domains: st.Domains}
		if len(t.Ports) == 0 {
			t.Ports = c.Ports
		}
		if len(t.Domains) == 0 {
			t.Domains = c.Domains
		}
		out = append(out, t)
	}
	return out
}
