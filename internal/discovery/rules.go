package discovery

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
)

// Reason says why a pod yields no target. The values become field names of the
// cert_expiry_discovery measurement ("skipped_" + reason).
type Reason string

// Reasons, in the order the rules test them: a pod is counted under the first that applies.
const (
	// ReasonTerminating: metadata.deletionTimestamp is set; the pod is shutting down.
	ReasonTerminating Reason = "terminating"
	// ReasonFinished: phase Succeeded or Failed; its IP is released and may already belong to
	// another pod, so dialling it would measure the wrong server.
	ReasonFinished Reason = "finished"
	// ReasonNoIP: no pod IP (or host IP, with address = "host_ip") yet.
	ReasonNoIP Reason = "no_ip"
	// ReasonNotReady: the Ready condition is not True (unless include_not_ready).
	ReasonNotReady Reason = "not_ready"
	// ReasonNoPort: no fixed port is configured and the pod has none of the named ports (with
	// address = "host_ip": none exposed on the host).
	ReasonNoPort Reason = "no_port"
	// ReasonDuplicateAddress: every address and port of the pod is already probed for an
	// earlier pod (by namespace/name) — hostNetwork pods on one node share the node's IP.
	ReasonDuplicateAddress Reason = "duplicate_address"
)

// AllReasons returns every Reason in rule order.
func AllReasons() []Reason {
	return []Reason{ReasonTerminating, ReasonFinished, ReasonNoIP, ReasonNotReady, ReasonNoPort, ReasonDuplicateAddress}
}

// Rules decide which pods become targets and with which ports and domains.
type Rules struct {
	Address         string // AddressPodIP or AddressHostIP
	Ports           []int  // fixed ports, dialled on every pod
	PortNames       []string
	IncludeNotReady bool
	Domains         []string // SNI names, probed on every target
}

// Stats counts what the rules did with the pods of one snapshot.
type Stats struct {
	Pods    int            // pods in the cache (after the API server's selectors)
	Targets int            // targets returned: one per pod address
	Skipped map[Reason]int // pods that yielded no target, by reason; every reason present
}

// NewStats returns the Stats of pods pods before any rule ran: no targets, and every skip
// reason present with a count of zero (so that each becomes a field, whatever happened).
func NewStats(pods int) Stats {
	s := Stats{Pods: pods, Skipped: make(map[Reason]int, len(AllReasons()))}
	for _, reason := range AllReasons() {
		s.Skipped[reason] = 0
	}
	return s
}

// Targets applies the rules to pods and returns one target per (pod, address) in
// namespace/name order, then address order. Pods are not modified.
//
// An address+port pair already taken by an earlier pod is dropped from later ones, so two
// hostNetwork pods on one node (same IP) are probed once; a pod left with nothing is counted
// as duplicate_address. Dual-stack pods yield one target per IP family.
func (r *Rules) Targets(pods []*corev1.Pod) ([]target.Target, Stats) {
	infos := make([]*podInfo, len(pods))
	for i, p := range pods {
		infos[i] = toPodInfo(p, r.PortNames)
	}
	return r.targets(infos)
}

// targets is Targets on the cached form of the pods; it may reorder infos.
func (r *Rules) targets(pods []*podInfo) ([]target.Target, Stats) {
	stats := NewStats(len(pods))
	slices.SortFunc(pods, func(a, b *podInfo) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})

	taken := make(map[string]map[int]bool) // address → ports already probed
	var out []target.Target
	for _, pod := range pods {
		addrs, ports, reason := r.candidate(pod)
		if reason != "" {
			stats.Skipped[reason]++
			continue
		}
		added := 0
		for _, addr := range addrs {
			var fresh []int
			for _, p := range ports {
				if !taken[addr][p] {
					fresh = append(fresh, p)
				}
			}
			if len(fresh) == 0 {
				continue
			}
			if taken[addr] == nil {
				taken[addr] = make(map[int]bool, len(fresh))
			}
			for _, p := range fresh {
				taken[addr][p] = true
			}
			out = append(out, target.Target{
				Source:    target.SourceKubernetes,
				Namespace: pod.Namespace,
				Pod:       pod.Name,
				Node:      pod.Node,
				Address:   addr,
				Ports:     fresh,
				Domains:   r.Domains,
			})
			added++
		}
		if added == 0 {
			stats.Skipped[ReasonDuplicateAddress]++
		}
	}
	stats.Targets = len(out)
	return out, stats
}

// candidate returns the addresses and ports to dial on pod, or the reason to skip it.
func (r *Rules) candidate(pod *podInfo) (addrs []string, ports []int, skip Reason) {
	switch {
	case pod.Terminating:
		return nil, nil, ReasonTerminating
	case pod.Finished:
		return nil, nil, ReasonFinished
	}
	addrs = pod.PodIPs
	if r.Address == AddressHostIP {
		addrs = pod.HostIPs
	}
	if len(addrs) == 0 {
		return nil, nil, ReasonNoIP
	}
	if !r.IncludeNotReady && !pod.Ready {
		return nil, nil, ReasonNotReady
	}
	ports = r.ports(pod)
	if len(ports) == 0 {
		return nil, nil, ReasonNoPort
	}
	return addrs, ports, ""
}

// ports returns the fixed ports followed by the pod's named ports, each once. With host_ip a
// named port counts only when it is reachable on the node: its hostPort, or the container
// port itself for a hostNetwork pod.
func (r *Rules) ports(pod *podInfo) []int {
	out := slices.Clone(r.Ports)
	for _, np := range pod.Ports {
		if !slices.Contains(r.PortNames, np.Name) {
			continue
		}
		port := np.ContainerPort
		if r.Address == AddressHostIP && !pod.HostNetwork {
			port = np.HostPort
		}
		if port > 0 && !slices.Contains(out, port) {
			out = append(out, port)
		}
	}
	return out
}
