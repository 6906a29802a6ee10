// Package discovery finds probe targets among Kubernetes pods through client-go informers.
//
// One informer per configured namespace (or one cluster-wide) LISTs the pods once and then
// WATCHes them; a transform strips each pod to the few fields the target rules read, so the
// cache stays small at tens of thousands of pods. Snapshot reads the cache: it never calls the
// API. Optionally, a second set of informers reads the TLS hosts of Ingress objects and merges
// them into the domains to probe.
//
// The package does not import Telegraf: the plugin turns a Snapshot into targets and the
// cert_expiry_discovery measurement.
package discovery

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/duration"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/option"
)

// Scope values for Config.Scope (the option names follow Telegraf's prometheus input).
const (
	// ScopeCluster watches every pod the selectors match (a Deployment of one replica).
	ScopeCluster = "cluster"
	// ScopeNode watches only the pods scheduled on this node (spec.nodeName), for a DaemonSet.
	ScopeNode = "node"
)

// Address values for Config.Address: which of the pod's addresses to dial.
const (
	// AddressPodIP dials every IP in status.podIPs (both families on a dual-stack cluster).
	AddressPodIP = "pod_ip"
	// AddressHostIP dials every IP in status.hostIPs: for pods that serve through a hostPort.
	AddressHostIP = "host_ip"
)

// NodeNameEnv is read for the node name in node scope when node_name is not set; a DaemonSet
// fills it from the downward API (fieldRef spec.nodeName).
const NodeNameEnv = "NODE_NAME"

// DefaultSyncTimeout is how long a gather waits for the informers' first LIST.
const DefaultSyncTimeout = 10 * time.Second

// Config is the [inputs.certexpiry.kubernetes] table. Every field has a toml tag because the
// plugin rejects unknown keys. The zero value means: in-cluster credentials, all namespaces,
// cluster scope, pod IPs, the plugin's ports, ready pods only.
type Config struct {
	// KubeConfig is a kubeconfig file. Empty: the standard loading rules when $KUBECONFIG is
	// set or KubeContext is given, otherwise the in-cluster service account.
	KubeConfig string `toml:"kube_config"`
	// KubeContext selects a context of the kubeconfig; empty means its current-context.
	KubeContext string `toml:"kube_context"`

	// Namespaces to watch, one informer each; empty means all namespaces (one informer).
	Namespaces []string `toml:"namespaces"`
	// LabelSelector and FieldSelector are passed to the API server (e.g. "app=web",
	// "spec.nodeName!=edge-1"); the names are those of Telegraf's prometheus input.
	LabelSelector string `toml:"kubernetes_label_selector"`
	FieldSelector string `toml:"kubernetes_field_selector"`

	// Scope is "cluster" (default) or "node". In node scope only pods with
	// spec.nodeName = NodeName are watched (selected by the API server).
	Scope string `toml:"pod_scrape_scope"`
	// NodeName is this node's name in node scope; default $NODE_NAME.
	NodeName string `toml:"node_name"`

	// Address is "pod_ip" (default) or "host_ip".
	Address string `toml:"address"`

	// Ports are dialled on every pod. Default: the plugin's ports, unless PortNames is set.
	Ports []int `toml:"ports"`
	// PortNames are container port names (spec.containers[].ports[].name, TCP), resolved per
	// pod, e.g. ["https"]. A pod that has none of them and no fixed port is skipped (no_port).
	PortNames []string `toml:"port_names"`

	// IncludeNotReady probes pods whose Ready condition is not True (default false: a pod
	// that is not ready receives no traffic, and its certificate may not be loaded yet).
	IncludeNotReady bool `toml:"include_not_ready"`

	// SyncTimeout bounds how long a gather waits for the first LIST; default 10s. The gather's
	// own budget bounds it too.
	SyncTimeout duration.Duration `toml:"sync_timeout"`

	// IngressDomains adds the TLS hosts of networking.k8s.io/v1 Ingresses to the domains
	// probed on every pod (wildcard hosts are left out: there is no name to send as SNI).
	IngressDomains bool `toml:"ingress_domains"`
	// IngressNamespaces to read Ingresses from; default: Namespaces.
	IngressNamespaces []string `toml:"ingress_namespaces"`
	// IgnoreDomains are regular expressions (RE2, anchored: the whole host must match) for
	// Ingress hosts not to probe. Configured domains are never ignored.
	IgnoreDomains []string `toml:"ignore_domains"`
}

// optErr is an invalid option of the kubernetes table (*option.Error), named in full as the
// user wrote it, e.g. "kubernetes.pod_scrape_scope".
func optErr(name, format string, args ...any) error {
	return option.Errorf(option.Name("kubernetes."+name), format, args...)
}

// Settings is a validated Config with its defaults filled in, ready for New.
type Settings struct {
	KubeConfig        string
	KubeContext       string
	Namespaces        []string // nil: all namespaces
	LabelSelector     string
	FieldSelector     string // includes spec.nodeName=NODE in node scope
	Scope             string
	NodeName          string
	Address           string
	Ports             []int
	PortNames         []string
	IncludeNotReady   bool
	SyncTimeout       time.Duration
	Domains           []string // configured domains, probed on every pod
	IngressDomains    bool
	IngressNamespaces []string // nil: all namespaces
	Ignore            []*regexp.Regexp
}

// Validate checks cfg without touching the network, fills in defaults and returns the
// settings. domains and ports are the plugin's top-level options; getenv reads NODE_NAME and
// KUBECONFIG (os.Getenv when nil). Every problem is reported, each naming its option.
func Validate(cfg *Config, domains []string, ports []int, getenv func(string) string) (*Settings, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	s := &Settings{
		KubeConfig:      cfg.KubeConfig,
		KubeContext:     cfg.KubeContext,
		LabelSelector:   strings.TrimSpace(cfg.LabelSelector),
		Scope:           cfg.Scope,
		NodeName:        cfg.NodeName,
		Address:         cfg.Address,
		PortNames:       cfg.PortNames,
		IncludeNotReady: cfg.IncludeNotReady,
		SyncTimeout:     time.Duration(cfg.SyncTimeout),
		Domains:         domains,
		IngressDomains:  cfg.IngressDomains,
	}
	var errs []error

	var err error
	if s.Namespaces, err = validNamespaces("namespaces", cfg.Namespaces); err != nil {
		errs = append(errs, err)
	}
	if s.LabelSelector != "" {
		if _, err := labels.Parse(s.LabelSelector); err != nil {
			errs = append(errs, optErr("kubernetes_label_selector", "%q: %v", s.LabelSelector, err))
		}
	}
	var fieldSel fields.Selector = fields.Everything()
	if fs := strings.TrimSpace(cfg.FieldSelector); fs != "" {
		if fieldSel, err = fields.ParseSelector(fs); err != nil {
			errs = append(errs, optErr("kubernetes_field_selector", "%q: %v", fs, err))
			fieldSel = fields.Everything()
		}
	}

	switch s.Scope {
	case "":
		s.Scope = ScopeCluster
	case ScopeCluster, ScopeNode:
	default:
		errs = append(errs, optErr("pod_scrape_scope", "must be %q or %q, got %q", ScopeCluster, ScopeNode, s.Scope))
	}
	if s.Scope == ScopeNode {
		if s.NodeName == "" {
			s.NodeName = getenv(NodeNameEnv)
		}
		if s.NodeName == "" {
			errs = append(errs, optErr("node_name", "required in node scope: set node_name or the %s environment variable (a DaemonSet sets it from the downward API, fieldRef spec.nodeName)", NodeNameEnv))
		} else {
			node := fields.OneTermEqualSelector("spec.nodeName", s.NodeName)
			if fieldSel.Empty() {
				fieldSel = node
			} else {
				fieldSel = fields.AndSelectors(fieldSel, node)
			}
		}
	} else if s.NodeName != "" {
		errs = append(errs, optErr("node_name", "only used with pod_scrape_scope = %q", ScopeNode))
	}
	if !fieldSel.Empty() {
		s.FieldSelector = fieldSel.String()
	}

	switch s.Address {
	case "":
		s.Address = AddressPodIP
	case AddressPodIP, AddressHostIP:
	default:
		errs = append(errs, optErr("address", "must be %q or %q, got %q", AddressPodIP, AddressHostIP, s.Address))
	}

	if err := option.Ports("kubernetes.ports", cfg.Ports); err != nil {
		errs = append(errs, err)
	}
	s.Ports = cfg.Ports
	if len(s.Ports) == 0 && len(s.PortNames) == 0 {
		s.Ports = ports
	}
	for _, name := range s.PortNames {
		if msgs := validation.IsValidPortName(name); len(msgs) > 0 {
			errs = append(errs, optErr("port_names", "%q is not a port name: %s", name, strings.Join(msgs, "; ")))
		}
	}
	if len(s.Ports) == 0 && len(s.PortNames) == 0 {
		errs = append(errs, optErr("ports", "no ports to dial: set ports or port_names"))
	}

	switch {
	case s.SyncTimeout < 0:
		errs = append(errs, optErr("sync_timeout", "must not be negative, got %q", time.Duration(cfg.SyncTimeout)))
	case s.SyncTimeout == 0:
		s.SyncTimeout = DefaultSyncTimeout
	}

	if !s.IngressDomains {
		if len(cfg.IngressNamespaces) > 0 {
			errs = append(errs, optErr("ingress_namespaces", "only used with ingress_domains = true"))
		}
		if len(cfg.IgnoreDomains) > 0 {
			errs = append(errs, optErr("ignore_domains", "only used with ingress_domains = true"))
		}
		if len(domains) == 0 {
			errs = append(errs, errors.New("kubernetes: no domains to probe on the pods: set domains at the top level or ingress_domains = true"))
		}
	} else {
		s.IngressNamespaces = s.Namespaces
		if len(cfg.IngressNamespaces) > 0 {
			if s.IngressNamespaces, err = validNamespaces("ingress_namespaces", cfg.IngressNamespaces); err != nil {
				errs = append(errs, err)
			}
		}
		for i, expr := range cfg.IgnoreDomains {
			re, err := regexp.Compile(`^(?:` + expr + `)$`)
			if err != nil {
				errs = append(errs, optErr(fmt.Sprintf("ignore_domains[%d]", i), "%q: %v", expr, err))
				continue
			}
			s.Ignore = append(s.Ignore, re)
		}
	}

	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

func validNamespaces(name string, in []string) ([]string, error) {
	seen := make(map[string]bool, len(in))
	var out []string
	for _, ns := range in {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			return nil, optErr(name, "%q is not a namespace name: %s", ns, strings.Join(msgs, "; "))
		}
		if !seen[ns] {
			seen[ns] = true
			out = append(out, ns)
		}
	}
	return out, nil
}
