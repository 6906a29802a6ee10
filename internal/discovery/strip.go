package discovery

import (
	"net"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// podInfo is what the cache keeps of a pod: only what Rules read. A *corev1.Pod, even
// with every other field cleared, is a 1.2 KB struct; podInfo is about a tenth of that, which
// matters at tens of thousands of pods.
type podInfo struct {
	Namespace, Name, Node string
	Terminating           bool // metadata.deletionTimestamp set
	Finished              bool // phase Succeeded or Failed
	Ready                 bool // condition Ready is True
	HostNetwork           bool
	PodIPs, HostIPs       []string // valid IPs in canonical form, each once, in status order
	Ports                 []namedPort
}

// namedPort is a TCP container port whose name is one of the configured port names.
type namedPort struct {
	Name          string
	ContainerPort int
	HostPort      int
}

// GetObjectMeta lets the informer's key function (namespace/name) read a podInfo.
func (p *podInfo) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name}
}

// podStripper returns the informer transform for pods: each *corev1.Pod becomes a podInfo
// before it reaches the cache, keeping the named TCP container ports listed in portNames
// (none when empty). Labels, annotations, managed fields, env, volumes and the rest are
// dropped. Anything that is not a *Pod (a tombstone, say) passes through unchanged.
func podStripper(portNames []string) cache.TransformFunc {
	return func(obj any) (any, error) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return obj, nil
		}
		return toPodInfo(pod, portNames), nil
	}
}

func toPodInfo(pod *corev1.Pod, portNames []string) *podInfo {
	p := &podInfo{
		Namespace:   pod.Namespace,
		Name:        pod.Name,
		Node:        pod.Spec.NodeName,
		Terminating: pod.DeletionTimestamp != nil,
		Finished:    pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed,
		HostNetwork: pod.Spec.HostNetwork,
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			p.Ready = c.Status == corev1.ConditionTrue
			break
		}
	}
	// The plural status fields are authoritative; the singular ones cover API servers and
	// fixtures that set only them.
	for _, ip := range pod.Status.PodIPs {
		p.PodIPs = appendIP(p.PodIPs, ip.IP)
	}
	p.PodIPs = appendIP(p.PodIPs, pod.Status.PodIP)
	for _, ip := range pod.Status.HostIPs {
		p.HostIPs = appendIP(p.HostIPs, ip.IP)
	}
	p.HostIPs = appendIP(p.HostIPs, pod.Status.HostIP)
	if len(portNames) > 0 {
		for _, c := range pod.Spec.Containers {
			for _, cp := range c.Ports {
				if slices.Contains(portNames, cp.Name) && (cp.Protocol == "" || cp.Protocol == corev1.ProtocolTCP) {
					p.Ports = append(p.Ports, namedPort{Name: cp.Name, ContainerPort: int(cp.ContainerPort), HostPort: int(cp.HostPort)})
				}
			}
		}
	}
	return p
}

// appendIP appends s in canonical form (so that de-duplication sees one spelling per IPv6
// address) unless it is invalid or already there.
func appendIP(ips []string, s string) []string {
	ip := net.ParseIP(s)
	if ip == nil {
		return ips
	}
	s = ip.String()
	if slices.Contains(ips, s) {
		return ips
	}
	return append(ips, s)
}

// stripIngress is the informer transform for Ingresses: only the TLS hosts are kept.
func stripIngress(obj any) (any, error) {
	ing, ok := obj.(*networkingv1.Ingress)
	if !ok {
		return obj, nil
	}
	out := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{
		Name:            ing.Name,
		Namespace:       ing.Namespace,
		ResourceVersion: ing.ResourceVersion,
	}}
	for _, t := range ing.Spec.TLS {
		if len(t.Hosts) > 0 {
			out.Spec.TLS = append(out.Spec.TLS, networkingv1.IngressTLS{Hosts: slices.Clone(t.Hosts)})
		}
	}
	return out, nil
}
