package discovery

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// podStripper returns the informer transform for pods: a new Pod holding only what Rules read
// (name, namespace, deletion mark, node, hostNetwork, the named TCP container ports we look
// for, phase, IPs and the Ready condition). Labels, annotations, managed fields, env, volumes
// and the rest are dropped before the object reaches the cache: a typical pod shrinks from
// several kilobytes to a few hundred bytes.
//
// Anything that is not a *Pod (a tombstone, say) passes through unchanged.
func podStripper(portNames []string) cache.TransformFunc {
	return func(obj any) (any, error) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return obj, nil
		}
		out := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name:              pod.Name,
				Namespace:         pod.Namespace,
				ResourceVersion:   pod.ResourceVersion,
				DeletionTimestamp: pod.DeletionTimestamp,
			},
			Spec: corev1.PodSpec{
				NodeName:    pod.Spec.NodeName,
				HostNetwork: pod.Spec.HostNetwork,
			},
			Status: corev1.PodStatus{
				Phase:  pod.Status.Phase,
				PodIP:  pod.Status.PodIP,
				HostIP: pod.Status.HostIP,
			},
		}
		if len(portNames) > 0 {
			for _, c := range pod.Spec.Containers {
				var ports []corev1.ContainerPort
				for _, p := range c.Ports {
					if slices.Contains(portNames, p.Name) {
						ports = append(ports, corev1.ContainerPort{Name: p.Name, ContainerPort: p.ContainerPort, HostPort: p.HostPort, Protocol: p.Protocol})
					}
				}
				if len(ports) > 0 {
					out.Spec.Containers = append(out.Spec.Containers, corev1.Container{Ports: ports})
				}
			}
		}
		// Single-stack pods repeat podIP in podIPs: keep the list only when it adds something.
		if len(pod.Status.PodIPs) > 1 || len(pod.Status.PodIPs) == 1 && pod.Status.PodIPs[0].IP != pod.Status.PodIP {
			out.Status.PodIPs = slices.Clone(pod.Status.PodIPs)
		}
		if len(pod.Status.HostIPs) > 1 || len(pod.Status.HostIPs) == 1 && pod.Status.HostIPs[0].IP != pod.Status.HostIP {
			out.Status.HostIPs = slices.Clone(pod.Status.HostIPs)
		}
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodReady {
				out.Status.Conditions = []corev1.PodCondition{{Type: c.Type, Status: c.Status}}
				break
			}
		}
		return out, nil
	}
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
