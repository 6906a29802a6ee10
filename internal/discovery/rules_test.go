package discovery

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
)

// podOpt changes a test pod.
type podOpt func(*corev1.Pod)

// testPod is a ready, running pod on node-1 with one IP and a container port named https.
func testPod(ns, name, ip string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			NodeName: "node-1",
			Containers: []corev1.Container{{
				Name:  "web",
				Image: "nginx",
				Ports: []corev1.ContainerPort{
					{Name: "https", ContainerPort: 8443, Protocol: corev1.ProtocolTCP},
					{Name: "metrics", ContainerPort: 9100, Protocol: corev1.ProtocolTCP},
				},
			}},
		},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			HostIP:     "127.0.0.100",
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		},
	}
	if ip != "" {
		p.Status.PodIP = ip
		p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func notReady(p *corev1.Pod) {
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
}
func terminating(p *corev1.Pod) { now := metav1.Now(); p.DeletionTimestamp = &now }
func hostNetwork(p *corev1.Pod) {
	p.Spec.HostNetwork = true
	p.Status.PodIP, p.Status.PodIPs = p.Status.HostIP, []corev1.PodIP{{IP: p.Status.HostIP}}
}
func onNode(n string) podOpt { return func(p *corev1.Pod) { p.Spec.NodeName = n } }
func phase(ph corev1.PodPhase) podOpt {
	return func(p *corev1.Pod) { p.Status.Phase = ph }
}
func dualStack(v6 string) podOpt {
	return func(p *corev1.Pod) { p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: v6}) }
}

func skipped(kv ...any) map[Reason]int {
	m := map[Reason]int{}
	for _, r := range AllReasons() {
		m[r] = 0
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(Reason)] = kv[i+1].(int)
	}
	return m
}

func kt(ns, pod, node, addr string, ports []int, domains ...string) target.Target {
	return target.Target{Source: target.SourceKubernetes, Namespace: ns, Pod: pod, Node: node, Address: addr, Ports: ports, Domains: domains}
}

func TestRulesTargets(t *testing.T) {
	domains := []string{"example.com", "www.example.com"}
	tests := []struct {
		name  string
		rules Rules
		pods  []*corev1.Pod
		want  []target.Target
		stats Stats
	}{
		{
			name:  "ready pods become targets in namespace/name order with the fixed ports",
			rules: Rules{Address: AddressPodIP, Ports: []int{443}, Domains: domains},
			pods: []*corev1.Pod{
				testPod("web", "web-b", "127.0.0.3"),
				testPod("api", "api-0", "127.0.0.4", onNode("node-2")),
				testPod("web", "web-a", "127.0.0.2"),
			},
			want: []target.Target{
				kt("api", "api-0", "node-2", "127.0.0.4", []int{443}, domains...),
				kt("web", "web-a", "node-1", "127.0.0.2", []int{443}, domains...),
				kt("web", "web-b", "node-1", "127.0.0.3", []int{443}, domains...),
			},
			stats: Stats{Pods: 3, Targets: 3, Skipped: skipped()},
		},
		{
			name:  "each skip reason is counted once per pod, first matching rule wins",
			rules: Rules{Address: AddressPodIP, Ports: []int{443}, Domains: domains},
			pods: []*corev1.Pod{
				testPod("web", "ok", "127.0.0.2"),
				testPod("web", "no-ip", ""),
				testPod("web", "no-ip-not-ready", "", notReady),
				testPod("web", "not-ready", "127.0.0.3", notReady),
				testPod("web", "terminating", "127.0.0.4", terminating, notReady),
				testPod("web", "succeeded", "127.0.0.5", phase(corev1.PodSucceeded)),
				testPod("web", "failed", "127.0.0.6", phase(corev1.PodFailed)),
				testPod("web", "no-conditions", "127.0.0.7", func(p *corev1.Pod) { p.Status.Conditions = nil }),
			},
			want:  []target.Target{kt("web", "ok", "node-1", "127.0.0.2", []int{443}, domains...)},
			stats: Stats{Pods: 8, Targets: 1, Skipped: skipped(ReasonNoIP, 2, ReasonNotReady, 2, ReasonTerminating, 1, ReasonFinished, 2)},
		},
		{
			name:  "include_not_ready probes not-ready pods but still skips terminating and finished ones",
			rules: Rules{Address: AddressPodIP, Ports: []int{443}, IncludeNotReady: true, Domains: domains},
			pods: []*corev1.Pod{
				testPod("web", "not-ready", "127.0.0.3", notReady),
				testPod("web", "terminating", "127.0.0.4", terminating),
				testPod("web", "failed", "127.0.0.6", phase(corev1.PodFailed)),
			},
			want:  []target.Target{kt("web", "not-ready", "node-1", "127.0.0.3", []int{443}, domains...)},
			stats: Stats{Pods: 3, Targets: 1, Skipped: skipped(ReasonTerminating, 1, ReasonFinished, 1)},
		},
		{
			name:  "hostNetwork pods sharing a node IP are probed once, the first by name",
			rules: Rules{Address: AddressPodIP, Ports: []int{443}, Domains: domains},
			pods: []*corev1.Pod{
				testPod("kube-system", "proxy-b", "", hostNetwork),
				testPod("kube-system", "proxy-a", "", hostNetwork),
				testPod("kube-system", "proxy-c", "", hostNetwork, onNode("node-2"), func(p *corev1.Pod) {
					p.Status.HostIP = "127.0.0.101"
					hostNetwork(p)
				}),
				testPod("web", "web-0", "127.0.0.2"),
			},
			want: []target.Target{
				kt("kube-system", "proxy-a", "node-1", "127.0.0.100", []int{443}, domains...),
				kt("kube-system", "proxy-c", "node-2", "127.0.0.101", []int{443}, domains...),
				kt("web", "web-0", "node-1", "127.0.0.2", []int{443}, domains...),
			},
			stats: Stats{Pods: 4, Targets: 3, Skipped: skipped(ReasonDuplicateAddress, 1)},
		},
		{
			name:  "dual-stack pods yield one target per IP; IPv6 is normalised",
			rules: Rules{Address: AddressPodIP, Ports: []int{443}, Domains: domains},
			pods: []*corev1.Pod{
				testPod("web", "web-0", "127.0.0.2", dualStack("0:0:0:0:0:0:0:1")),
			},
			want: []target.Target{
				kt("web", "web-0", "node-1", "127.0.0.2", []int{443}, domains...),
				kt("web", "web-0", "node-1", "::1", []int{443}, domains...),
			},
			stats: Stats{Pods: 1, Targets: 2, Skipped: skipped()},
		},
		{
			name:  "only podIP set (no podIPs) still counts; an unparsable IP is no IP",
			rules: Rules{Address: AddressPodIP, Ports: []int{443}, Domains: domains},
			pods: []*corev1.Pod{
				testPod("web", "a", "", func(p *corev1.Pod) { p.Status.PodIP = "127.0.0.2" }),
				testPod("web", "b", "", func(p *corev1.Pod) { p.Status.PodIP = "not-an-ip" }),
			},
			want:  []target.Target{kt("web", "a", "node-1", "127.0.0.2", []int{443}, domains...)},
			stats: Stats{Pods: 2, Targets: 1, Skipped: skipped(ReasonNoIP, 1)},
		},
		{
			name:  "named ports resolve per pod, after the fixed ones, TCP only; a pod without them is no_port",
			rules: Rules{Address: AddressPodIP, PortNames: []string{"https", "tls"}, Domains: domains},
			pods: []*corev1.Pod{
				testPod("web", "a", "127.0.0.2"),
				testPod("web", "b", "127.0.0.3", func(p *corev1.Pod) {
					p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "sidecar", Ports: []corev1.ContainerPort{
						{Name: "tls", ContainerPort: 9443},
						{Name: "https", ContainerPort: 8443, Protocol: corev1.ProtocolUDP},
					}})
				}),
				testPod("web", "c", "127.0.0.4", func(p *corev1.Pod) { p.Spec.Containers[0].Ports = nil }),
			},
			want: []target.Target{
				kt("web", "a", "node-1", "127.0.0.2", []int{8443}, domains...),
				kt("web", "b", "node-1", "127.0.0.3", []int{8443, 9443}, domains...),
			},
			stats: Stats{Pods: 3, Targets: 2, Skipped: skipped(ReasonNoPort, 1)},
		},
		{
			name:  "fixed and named ports together, without repeats",
			rules: Rules{Address: AddressPodIP, Ports: []int{443, 8443}, PortNames: []string{"https"}, Domains: domains},
			pods:  []*corev1.Pod{testPod("web", "a", "127.0.0.2")},
			want:  []target.Target{kt("web", "a", "node-1", "127.0.0.2", []int{443, 8443}, domains...)},
			stats: Stats{Pods: 1, Targets: 1, Skipped: skipped()},
		},
		{
			name:  "host_ip dials the node with the hostPort; pods on one node share it once",
			rules: Rules{Address: AddressHostIP, PortNames: []string{"https"}, Domains: domains},
			pods: []*corev1.Pod{
				testPod("ingress", "ctrl-a", "127.0.0.2", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].HostPort = 443 }),
				testPod("ingress", "ctrl-b", "127.0.0.3", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].HostPort = 443 }),
				testPod("web", "no-host-port", "127.0.0.4"),
				testPod("web", "host-net", "", hostNetwork, onNode("node-2"), func(p *corev1.Pod) {
					p.Status.HostIP = "127.0.0.101"
					hostNetwork(p)
				}),
			},
			want: []target.Target{
				kt("ingress", "ctrl-a", "node-1", "127.0.0.100", []int{443}, domains...),
				kt("web", "host-net", "node-2", "127.0.0.101", []int{8443}, domains...),
			},
			stats: Stats{Pods: 4, Targets: 2, Skipped: skipped(ReasonNoPort, 1, ReasonDuplicateAddress, 1)},
		},
		{
			name:  "a pod sharing an address keeps only the ports not yet covered there",
			rules: Rules{Address: AddressHostIP, Ports: []int{443}, PortNames: []string{"https"}, Domains: domains},
			pods: []*corev1.Pod{
				testPod("web", "a", "127.0.0.2"),
				testPod("web", "b", "127.0.0.3", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].HostPort = 8443 }),
			},
			want: []target.Target{
				kt("web", "a", "node-1", "127.0.0.100", []int{443}, domains...),
				kt("web", "b", "node-1", "127.0.0.100", []int{8443}, domains...),
			},
			stats: Stats{Pods: 2, Targets: 2, Skipped: skipped()},
		},
		{
			name:  "no pods",
			rules: Rules{Address: AddressPodIP, Ports: []int{443}, Domains: domains},
			want:  nil,
			stats: Stats{Pods: 0, Targets: 0, Skipped: skipped()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, stats := tt.rules.Targets(tt.pods)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("targets:\n got %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(stats, tt.stats) {
				t.Errorf("stats:\n got %+v\nwant %+v", stats, tt.stats)
			}
		})
	}
}

func TestRulesTargetsDoNotModifyPods(t *testing.T) {
	pods := []*corev1.Pod{testPod("web", "b", "127.0.0.3"), testPod("web", "a", "127.0.0.2")}
	r := Rules{Address: AddressPodIP, Ports: []int{443}, Domains: []string{"example.com"}}
	r.Targets(pods)
	if pods[0].Name != "b" || pods[1].Name != "a" {
		t.Fatalf("input slice reordered: %s, %s", pods[0].Name, pods[1].Name)
	}
}

func TestPodStripperKeepsOnlyWhatRulesRead(t *testing.T) {
	pod := testPod("web", "a", "127.0.0.2", dualStack("0:0:0:0:0:0:0:1"), terminating)
	pod.Annotations = map[string]string{"big": "x"}
	pod.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	pod.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "b"}}
	pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "dns", Ports: []corev1.ContainerPort{
		{Name: "https", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
		{Name: "https", ContainerPort: 9443, HostPort: 443},
	}})
	pod.Status.Conditions = append([]corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}, pod.Status.Conditions...)

	obj, err := podStripper([]string{"https"})(pod)
	if err != nil {
		t.Fatal(err)
	}
	want := &podInfo{
		Namespace: "web", Name: "a", Node: "node-1", Terminating: true, Ready: true,
		PodIPs:  []string{"127.0.0.2", "::1"},
		HostIPs: []string{"127.0.0.100"},
		Ports:   []namedPort{{Name: "https", ContainerPort: 8443}, {Name: "https", ContainerPort: 9443, HostPort: 443}},
	}
	if !reflect.DeepEqual(obj, want) {
		t.Fatalf("stripped:\n got %+v\nwant %+v", obj, want)
	}
	if m := obj.(*podInfo).GetObjectMeta(); m.GetNamespace() != "web" || m.GetName() != "a" {
		t.Fatalf("object meta %s/%s", m.GetNamespace(), m.GetName())
	}

	// Without port names no port is kept; finished pods are marked.
	obj, _ = podStripper(nil)(testPod("web", "b", "127.0.0.3", phase(corev1.PodFailed)))
	if p := obj.(*podInfo); p.Ports != nil || !p.Finished {
		t.Fatalf("stripped %+v", p)
	}

	// A tombstone passes through untouched.
	tomb := "not a pod"
	if got, _ := podStripper(nil)(tomb); got != tomb {
		t.Fatalf("tombstone changed to %v", got)
	}
}

// Zero stats carry every skip reason, so a gather before discovery started still has every
// field; they are what the rules return for no pods.
func TestNewStatsHasEveryReason(t *testing.T) {
	want := Stats{Pods: 0, Skipped: skipped()}
	if got := NewStats(0); !reflect.DeepEqual(got, want) {
		t.Fatalf("NewStats(0) = %+v, want %+v", got, want)
	}
	if _, got := (&Rules{}).Targets(nil); !reflect.DeepEqual(got, want) {
		t.Fatalf("stats of no pods = %+v, want %+v", got, want)
	}
}
