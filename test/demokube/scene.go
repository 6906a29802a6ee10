package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
)

// domain is the name every replica is asked for (SNI): one storefront served from two regions.
const domain = "shop.example.test"

const day = 24 * time.Hour

// replica is one pod of a Deployment-like set: its name and node, its loopback IP, and the
// certificate the TLS server on that IP serves.
type replica struct {
	ns, name, node, ip string
	leaf               *testcerts.Leaf
	// bad says why the summary must name this replica; "" for a healthy one.
	bad string
}

func (r replica) key() string { return r.ns + "/" + r.name }

// scene is the certificates, the TLS servers on the pods' IPs and the pods themselves.
type scene struct {
	caFile   string
	port     int // every replica serves on this port, as the pods of a Deployment do
	replicas []replica
	// added is the replica created while the demo runs (its pod does not exist at first).
	added   replica
	servers []*testcerts.Server
	// certificates per region, for the explanations
	euCert, euExpired, usRenewed, usPrevious *testcerts.Leaf
}

// Namespaces of the two regional Deployments and their pod-template hashes.
const (
	nsEU, nsUS     = "shop-eu", "shop-us"
	hashEU, hashUS = "web-6c8d7f9b4-", "web-5f7b9c6d8-"
)

// The cluster's changes while the demo runs.
var (
	changeNotReady = nsEU + "/" + hashEU + "8hz4w" // its readiness probe starts failing
	changeDeleted  = nsUS + "/" + hashUS + "9wlcx" // scaled away
	changeAdded    = nsUS + "/" + hashUS + "zm6qf" // its replacement
)

// newScene issues the certificates (dated from now) and starts one TLS server per replica,
// the added one included (its pod comes later). Close it, also on error.
func newScene(dir string, now time.Time) (s *scene, err error) {
	s = &scene{caFile: dir + "/demo-ca.pem"}
	defer func() {
		if err != nil {
			s.close()
			s = nil
		}
	}()
	root, err := testcerts.NewCA("Demo Root CA", now.Add(-365*day), now.Add(3650*day))
	if err != nil {
		return s, err
	}
	ca, err := root.Intermediate("Demo Issuing CA", now.Add(-365*day), now.Add(1000*day))
	if err != nil {
		return s, err
	}
	if err = os.WriteFile(s.caFile, root.CertPEM(), 0o644); err != nil {
		return s, err
	}
	issue := func(notBefore time.Time, lifetime time.Duration) *testcerts.Leaf {
		if err != nil {
			return nil
		}
		var l *testcerts.Leaf
		l, err = ca.Issue(testcerts.Options{CommonName: domain, DNSNames: []string{domain}, NotBefore: notBefore, NotAfter: notBefore.Add(lifetime)})
		return l
	}
	// 90-day certificates. EU: renewed ten days ago; one replica still has one that expired two
	// days ago. US: renewed yesterday (at two thirds of the lifetime); one replica was never
	// restarted and serves the previous certificate, valid for 29 more days: its status is
	// valid, and only its siblings (or the renewal record) show that it was never reloaded.
	s.euCert = issue(now.Add(-10*day), 90*day)
	s.euExpired = issue(now.Add(-92*day), 90*day)
	s.usRenewed = issue(now.Add(-1*day), 90*day)
	s.usPrevious = issue(now.Add(-61*day), 90*day)
	if err != nil {
		return s, err
	}
	s.replicas = []replica{
		{ns: nsEU, name: hashEU + "2xkqp", node: "node-a", ip: "127.0.77.11", leaf: s.euCert},
		{ns: nsEU, name: hashEU + "8hz4w", node: "node-b", ip: "127.0.77.12", leaf: s.euCert},
		{ns: nsEU, name: hashEU + "tq7mn", node: "node-c", ip: "127.0.77.13", leaf: s.euExpired, bad: "expired"},
		{ns: nsUS, name: hashUS + "4rj2v", node: "node-a", ip: "127.0.77.21", leaf: s.usRenewed},
		{ns: nsUS, name: hashUS + "9wlcx", node: "node-b", ip: "127.0.77.22", leaf: s.usRenewed},
		{ns: nsUS, name: hashUS + "kp3sd", node: "node-c", ip: "127.0.77.23", leaf: s.usPrevious, bad: "previous certificate"},
	}
	s.added = replica{ns: nsUS, name: hashUS + "zm6qf", node: "node-b", ip: "127.0.77.24", leaf: s.usRenewed}

	// The first server picks the port; every other replica listens on the same one.
	for _, r := range append(s.replicas, s.added) {
		addr := net.JoinHostPort(r.ip, strconv.Itoa(s.port))
		srv, err := testcerts.ServeLeaf(addr, r.leaf)
		if err != nil {
			return s, fmt.Errorf("serving %s's certificate on %s: %w", r.key(), addr, err)
		}
		s.servers = append(s.servers, srv)
		s.port = srv.Port()
	}
	return s, nil
}

func (s *scene) close() error {
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.Close())
	}
	s.servers = nil
	return errors.Join(errs...)
}

// pod is r's Pod as a Deployment's ReplicaSet would create it: labels with the template hash,
// a container port named "https" (the plugin resolves port_names per pod).
func (s *scene) pod(r replica) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: r.name, Labels: map[string]string{
			"app.kubernetes.io/name": "shop", "pod-template-hash": r.name[len("web-") : len(r.name)-len("-xxxxx")],
		}},
		Spec: corev1.PodSpec{NodeName: r.node, Containers: []corev1.Container{{
			Name: "web", Image: "registry.example/shop/web:1.4.2",
			Ports: []corev1.ContainerPort{{Name: "https", ContainerPort: int32(s.port)}},
		}}},
	}
}

// createPod creates r's pod, then writes its status (IP, Running, Ready) as a kubelet would.
func (s *scene) createPod(ctx context.Context, c kubernetes.Interface, r replica) error {
	created, err := c.CoreV1().Pods(r.ns).Create(ctx, s.pod(r), metav1.CreateOptions{})
	if err != nil {
		return err
	}
	return setStatus(ctx, c, created, r.ip, true)
}

// setStatus writes the pod's status: Running on node 127.0.0.1, pod IP ip, Ready or not.
func setStatus(ctx context.Context, c kubernetes.Interface, pod *corev1.Pod, ip string, ready bool) error {
	cond := corev1.ConditionFalse
	if ready {
		cond = corev1.ConditionTrue
	}
	pod = pod.DeepCopy()
	pod.Status.Phase = corev1.PodRunning
	pod.Status.HostIP, pod.Status.HostIPs = "127.0.0.1", []corev1.HostIP{{IP: "127.0.0.1"}}
	pod.Status.PodIP, pod.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: cond, LastTransitionTime: metav1.Now()}}
	_, err := c.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	return err
}

// change makes the cluster's changes while the plugin runs: one pod stops being ready, one is
// deleted, one is added.
func (s *scene) change(ctx context.Context, c kubernetes.Interface) error {
	ns, name := split(changeNotReady)
	pod, err := c.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if err := setStatus(ctx, c, pod, pod.Status.PodIP, false); err != nil {
		return err
	}
	ns, name = split(changeDeleted)
	if err := c.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		return err
	}
	return s.createPod(ctx, c, s.added)
}

func split(key string) (ns, name string) {
	for i := range key {
		if key[i] == '/' {
			return key[:i], key[i+1:]
		}
	}
	return "", key
}
