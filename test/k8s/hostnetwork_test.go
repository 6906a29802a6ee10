package k8s

import (
	"context"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/discovery"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/duration"
)

// hostNetwork pods (an ingress controller run as a DaemonSet, say) share their node's IP: two
// on one node are one backend, probed once — by the first pod's name — and the other is
// counted as skipped_duplicate_address; a pod on another node is probed on its own.
func TestHostNetworkPodsSharingANodeAreProbedOnce(t *testing.T) {
	c := startCluster(t)
	createNamespace(t, c.admin, "shop")
	serve(t, "127.0.0.31", c.port, c.good)
	serve(t, "127.0.0.32", c.port, c.good)
	for _, p := range []struct{ name, node, nodeIP string }{
		{"ingress-b", "node-a", "127.0.0.31"},
		{"ingress-a", "node-a", "127.0.0.31"},
		{"ingress-c", "node-b", "127.0.0.32"},
	} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: p.name, Labels: map[string]string{"app": "ingress"}},
			Spec:       corev1.PodSpec{NodeName: p.node, HostNetwork: true, Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}},
		}
		created, err := c.admin.CoreV1().Pods("shop").Create(context.Background(), pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// A hostNetwork pod's IP is its node's IP, as the kubelet reports it.
		created.Status = corev1.PodStatus{
			Phase:  corev1.PodRunning,
			HostIP: p.nodeIP, HostIPs: []corev1.HostIP{{IP: p.nodeIP}},
			PodIP: p.nodeIP, PodIPs: []corev1.PodIP{{IP: p.nodeIP}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}},
		}
		if _, err := c.admin.CoreV1().Pods("shop").UpdateStatus(context.Background(), created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	p := c.plugin(t, discovery.Config{
		KubeConfig:    c.api.Kubeconfig(c.saToken, "sa"),
		Namespaces:    []string{"shop"},
		LabelSelector: "app=ingress",
		SyncTimeout:   duration.Duration(10 * time.Second),
	}, &logger{})
	a := gather(t, p)
	want := c.wantRows("ingress-a@127.0.0.31/node-a=valid", "ingress-c@127.0.0.32/node-b=valid")
	if got := certRows(a); !reflect.DeepEqual(got, want) {
		t.Fatalf("cert_expiry rows\n got %q\nwant %q", got, want)
	}
	d := discoveryRow(t, a)
	if got, want := fieldsWithout(d.Fields, "api_requests"), counts(3, 2, 4, true, map[string]int64{"duplicate_address": 1}); !reflect.DeepEqual(got, want) {
		t.Fatalf("discovery fields\n got %v\nwant %v", got, want)
	}
}
