// Package target describes what the plugin probes: an address with the ports and domains to
// try on it, and where the address came from. Discovery (Kubernetes, static config) produces
// targets; the probe engine expands each into one probe per (port, domain).
package target

// Source values for Target.Source; they become the `source` tag.
const (
	SourceKubernetes = "kubernetes"
	SourceStatic     = "static"
)

// Target is one endpoint to probe.
type Target struct {
	// Source is SourceKubernetes or SourceStatic.
	Source string
	// Namespace, Pod and Node identify a Kubernetes pod; empty for static targets.
	Namespace string
	Pod       string
	Node      string
	// Address is an IPv4 or IPv6 address or a host name, without port or brackets.
	Address string
	// Ports to dial on Address; each must be in 1..65535.
	Ports []int
	// Domains to send as SNI, one probe each; never empty once a target reaches the prober.
	Domains []string
}

// Probe is one (target, port, domain) triple: the unit that yields exactly one cert_expiry row.
type Probe struct {
	Target *Target
	Port   int
	Domain string
}

// Expand returns one Probe per (target, port, domain), in target, port, domain order.
func Expand(targets []Target) []Probe {
	n := 0
	for i := range targets {
		n += len(targets[i].Ports) * len(targets[i].Domains)
	}
	probes := make([]Probe, 0, n)
	for i := range targets {
		t := &targets[i]
		for _, port := range t.Ports {
			for _, domain := range t.Domains {
				probes = append(probes, Probe{Target: t, Port: port, Domain: domain})
			}
		}
	}
	return probes
}
