// Command demokube shows telegraf-certexpiry doing its main job on a real Kubernetes API: it
// starts kube-apiserver and etcd on loopback (the binaries the integration tests build and
// cache), applies the shipped ServiceAccount and RBAC (deploy/kubernetes), creates two
// Deployment-like sets of pods in two namespaces, each pod served by a real TLS server on its
// own loopback IP — all healthy except one replica serving an expired certificate and one
// still serving the previous certificate after a renewal — and runs the plugin under a real
// Telegraf through [[inputs.execd]], with Kubernetes discovery authenticated by a token of
// that ServiceAccount. It prints the rows, the discovery row and a summary naming the bad
// replicas; then it changes the cluster (a pod becomes not ready, one is deleted, one added)
// and shows the next gather following, with the API server's own request counts to show that
// gathers make no API calls. Everything it started is stopped at the end, on error and on
// Ctrl-C. Run it with `make demo-kubernetes`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// config says which binaries to run and where the repository's manifests are.
type config struct {
	Telegraf, Etcd, KubeAPIServer, Plugin string
	// Manifests is the directory holding namespace.yaml, serviceaccount.yaml and rbac.yaml.
	Manifests string
	// Keep leaves the scene's directory (configs, logs, certificates, output) in place.
	Keep bool
}

// report is what the demo found, for its end-to-end test.
type report struct {
	Dir                   string
	Bad                   []finding // from the first complete gather
	PodsBefore, PodsAfter []string  // namespace/pod with rows, before and after the changes
	WantAfter             []string  // what PodsAfter must be if the changes were followed
	NotReadyAfter         int64     // skipped_not_ready of the gather after the changes
	// The API server's pod LIST/WATCH counts: before Telegraf starts (the API server's own
	// informers), after the first gather, and after the changes.
	APIStart, APIBefore, APIAfter apiCounts
	PluginRequestsBefore          int64 // the discovery row's api_requests, first gather
	PluginRequestsAfter           int64 // and after the changes
	GathersBetween                int   // complete gathers from the first to the one after the changes
}

func main() {
	var cfg config
	flag.StringVar(&cfg.Telegraf, "telegraf", "", "telegraf binary (test/tools/build.sh telegraf)")
	flag.StringVar(&cfg.Etcd, "etcd", "", "etcd binary (test/tools/build.sh etcd)")
	flag.StringVar(&cfg.KubeAPIServer, "kube-apiserver", "", "kube-apiserver binary (test/tools/build.sh kube-apiserver)")
	flag.StringVar(&cfg.Plugin, "plugin", "bin/telegraf-certexpiry", "telegraf-certexpiry binary")
	flag.StringVar(&cfg.Manifests, "manifests", "deploy/kubernetes", "directory of the shipped Kubernetes manifests")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep the scene's directory (configs, logs, CA, output) for a look")
	flag.Parse()

	// Ctrl-C and SIGTERM cancel ctx; run then stops what it started, in order. The signals stay
	// caught until then, so that a second Ctrl-C cannot cut the clean-up short (each process
	// gets SIGKILL 5 s after SIGTERM, so it is bounded).
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "\ndemo-kubernetes: %v: stopping everything it started…\n", s)
		cancel()
		for range sigs {
			fmt.Fprintln(os.Stderr, "demo-kubernetes: still cleaning up (at most a few seconds)")
		}
	}()
	_, err := run(ctx, cfg, os.Stdout)
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "demo-kubernetes: interrupted; everything it started is stopped")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "demo-kubernetes:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, out io.Writer) (rep *report, err error) {
	for name, v := range map[string]string{"-telegraf": cfg.Telegraf, "-etcd": cfg.Etcd, "-kube-apiserver": cfg.KubeAPIServer, "-plugin": cfg.Plugin} {
		if v == "" {
			return nil, fmt.Errorf("%s is required", name)
		}
	}
	pluginBin, err := filepath.Abs(cfg.Plugin)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "certexpiry-demo-kubernetes-")
	if err != nil {
		return nil, err
	}
	rep = &report{Dir: dir}
	if !cfg.Keep {
		defer os.RemoveAll(dir)
	}
	say := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }

	say("== A real Kubernetes API on loopback: %s + %s", filepath.Base(cfg.KubeAPIServer), filepath.Base(cfg.Etcd))
	say("   (the binaries the integration tests use, built once from the Go module proxy by")
	say("   test/tools/build.sh and cached in %s:", filepath.Dir(cfg.KubeAPIServer))
	say("   ≈ 15 min the first time on 2 cores, more on a busy machine; reused afterwards)")
	say("   scene directory: %s", dir)
	started := time.Now()
	kube, err := startCluster(ctx, dir, cfg.Etcd, cfg.KubeAPIServer)
	if err != nil {
		return rep, fmt.Errorf("starting the API server: %w", err)
	}
	defer kube.stop()
	say("   etcd            pid %d", kube.etcd.pid())
	say("   kube-apiserver  pid %d  %s  (ready after %s)", kube.api.pid(), kube.url, time.Since(started).Round(100*time.Millisecond))

	files := []string{"namespace.yaml", "serviceaccount.yaml", "rbac.yaml"}
	for i, f := range files {
		files[i] = filepath.Join(cfg.Manifests, f)
	}
	created, err := kube.applyManifests(ctx, files...)
	if err != nil {
		return rep, err
	}
	say("\n== The plugin's identity, from the shipped manifests (%s)", strings.Join(files, ", "))
	for _, c := range created {
		say("   created %s", c)
	}
	token, err := kube.serviceAccountToken(ctx, "telegraf-certexpiry", "telegraf-certexpiry")
	if err != nil {
		return rep, fmt.Errorf("token of the ServiceAccount: %w", err)
	}
	kubeconfig := filepath.Join(dir, "plugin.kubeconfig")
	if err := kube.writeKubeconfig(kubeconfig, "telegraf-certexpiry", token); err != nil {
		return rep, err
	}
	say("   a token of ServiceAccount telegraf-certexpiry/telegraf-certexpiry (TokenRequest) in %s:", filepath.Base(kubeconfig))
	say("   the plugin can list and watch pods, and nothing else")

	sc, err := newScene(dir, time.Now())
	if err != nil {
		return rep, err
	}
	defer sc.close()
	for _, ns := range []string{nsEU, nsUS} {
		if _, err := kube.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return rep, err
		}
	}
	say("\n== Pods: Deployment \"web\" in %s and in %s, three replicas each, every one a real TLS", nsEU, nsUS)
	say("   server on its pod IP, port %d (container port \"https\"); no kubelet, so the demo writes", sc.port)
	say("   each pod's status (IP, Running, Ready) as one would")
	for _, r := range sc.replicas {
		if err := sc.createPod(ctx, kube.admin, r); err != nil {
			return rep, fmt.Errorf("creating pod %s: %w", r.key(), err)
		}
		note := ""
		switch r.leaf {
		case sc.euExpired:
			note = "  <- expired two days ago"
		case sc.usPrevious:
			note = "  <- the certificate from before yesterday's renewal"
		}
		say("   %-30s %-7s %s:%d  certificate valid until %s%s", r.key(), r.node, r.ip, sc.port, r.leaf.Cert.NotAfter.UTC().Format("2006-01-02"), note)
	}

	telegrafConf, pluginConf, output := filepath.Join(dir, "telegraf.conf"), filepath.Join(dir, "plugin.conf"), filepath.Join(dir, "metrics.out")
	if err := os.WriteFile(pluginConf, []byte(pluginConfig(sc, kubeconfig)), 0o644); err != nil {
		return rep, err
	}
	if err := os.WriteFile(telegrafConf, []byte(telegrafConfig(pluginBin, pluginConf, output)), 0o644); err != nil {
		return rep, err
	}
	for _, f := range []string{pluginConf, telegrafConf} {
		body, err := os.ReadFile(f)
		if err != nil {
			return rep, err
		}
		say("\n== %s\n%s", filepath.Base(f), strings.TrimRight(string(body), "\n"))
	}

	if rep.APIStart, err = kube.podReads(ctx); err != nil {
		return rep, err
	}
	tg, err := startProcess(dir, "telegraf", cfg.Telegraf, "--config", telegrafConf)
	if err != nil {
		return rep, err
	}
	defer tg.stop()
	say("\n== Running: %s --config telegraf.conf   (pid %d; a gather every %s)", filepath.Base(cfg.Telegraf), tg.pid(), interval)
	alive := func() error {
		if tg.exited() {
			return fmt.Errorf("telegraf exited; its log ends:\n%s", tg.logTail())
		}
		return nil
	}
	rd, err := newOutputReader(output)
	if err != nil {
		return rep, err
	}
	first, err := rd.waitGather(ctx, 90*time.Second, alive, func(g *gather) bool {
		return g.field("synced") == true && len(g.rows) == len(sc.replicas)
	})
	if err != nil {
		return rep, fmt.Errorf("waiting for the first complete gather: %w\ntelegraf's log ends:\n%s", err, tg.logTail())
	}
	say("\n== First complete gather (%s): line protocol Telegraf wrote (outputs.file)", first.at.UTC().Format(time.TimeOnly))
	for _, l := range first.lines {
		say("%s", l)
	}
	say("\n== The rows")
	printRows(out, first)
	say("\n== The discovery row")
	printDiscovery(out, first)

	rep.Bad = findBad(first.rows)
	rep.PodsBefore = first.pods()
	say("\n== Summary: %d of %d replicas need attention", len(rep.Bad), len(sc.replicas))
	for _, f := range rep.Bad {
		say("   BAD %s: %s", f.Replica, f.Reason)
	}
	say("   the other %d replicas serve the current certificate, valid and verified", len(sc.replicas)-len(rep.Bad))

	if rep.APIBefore, err = kube.podReads(ctx); err != nil {
		return rep, err
	}
	rep.PluginRequestsBefore, _ = first.field("api_requests").(int64)

	say("\n== Changing the cluster while Telegraf runs")
	say("   %s becomes not ready (its Ready condition turns False)", changeNotReady)
	say("   %s is deleted", changeDeleted)
	say("   %s is added (Running, Ready, on %s)", changeAdded, sc.added.ip)
	if err := sc.change(ctx, kube.admin); err != nil {
		return rep, fmt.Errorf("changing the cluster: %w", err)
	}
	changed := time.Now()
	// The first gather that started well after the changes: the watch delivers events in
	// milliseconds on loopback; the margin keeps a gather that was already under way out.
	next, err := rd.waitGather(ctx, 60*time.Second, alive, func(g *gather) bool { return g.at.After(changed.Add(2 * time.Second)) })
	if err != nil {
		return rep, fmt.Errorf("waiting for a gather after the changes: %w", err)
	}
	for _, g := range rd.gathers() {
		if g.at.After(first.at) && !g.at.After(next.at) {
			rep.GathersBetween++
		}
	}
	if rep.APIAfter, err = kube.podReads(ctx); err != nil {
		return rep, err
	}
	rep.PodsAfter = next.pods()
	rep.NotReadyAfter, _ = next.field("skipped_not_ready").(int64)
	rep.PluginRequestsAfter, _ = next.field("api_requests").(int64)
	for _, p := range rep.PodsBefore {
		if p != changeNotReady && p != changeDeleted {
			rep.WantAfter = append(rep.WantAfter, p)
		}
	}
	rep.WantAfter = append(rep.WantAfter, changeAdded)
	sort.Strings(rep.WantAfter)

	say("\n== The next gather (%s), %d gathers after the first", next.at.UTC().Format(time.TimeOnly), rep.GathersBetween)
	printRows(out, next)
	printDiscovery(out, next)
	for _, p := range rep.PodsBefore {
		if !slices.Contains(rep.PodsAfter, p) {
			say("   gone:  %s", p)
		}
	}
	for _, p := range rep.PodsAfter {
		if !slices.Contains(rep.PodsBefore, p) {
			say("   new:   %s", p)
		}
	}
	followed := slices.Equal(rep.PodsAfter, rep.WantAfter) && rep.NotReadyAfter == 1
	say("   followed the changes: %v (skipped_not_ready=%d)", followed, rep.NotReadyAfter)

	say("\n== API calls: pods are watched, not polled")
	say("   the API server's own counters (/metrics: apiserver_request_total, apiserver_longrunning_requests)")
	say("     before Telegraf starts:   %s   (the API server's own informer)", rep.APIStart)
	say("     after the first gather:   %s", rep.APIBefore)
	say("     %d gathers later:          %s", rep.GathersBetween, rep.APIAfter)
	say("   the plugin's own count (api_requests of the discovery row): %d, then %d", rep.PluginRequestsBefore, rep.PluginRequestsAfter)
	if rep.APIAfter == rep.APIBefore && rep.PluginRequestsAfter == rep.PluginRequestsBefore {
		say("   no API request per gather: at start the plugin loaded the pods once per namespace, and")
		say("   since then it follows those %d watches; the changes arrived through them", rep.APIBefore.OpenWatches-rep.APIStart.OpenWatches)
	}
	if !followed {
		return rep, fmt.Errorf("the gather after the changes has rows for %v, want %v (skipped_not_ready=%d, want 1)", rep.PodsAfter, rep.WantAfter, rep.NotReadyAfter)
	}
	say("\n== Stopping telegraf, the TLS servers, kube-apiserver and etcd")
	if cfg.Keep {
		say("   (scene kept in %s)", dir)
	}
	return rep, nil
}

// interval is Telegraf's collection interval in the demo: short, so that the changes show soon,
// and above the plugin's gather_timeout (4 s: generous for loopback, on a busy machine too).
const interval = "5s"

func pluginConfig(sc *scene, kubeconfig string) string {
	return fmt.Sprintf(`# The certexpiry plugin's own configuration, read by telegraf-certexpiry -config.
[[inputs.certexpiry]]
  domains = [%q]
  timeout = "2s"
  gather_timeout = "4s"
  ca_file = %q

  [inputs.certexpiry.kubernetes]
    # A token of the ServiceAccount the shipped RBAC binds (list and watch on pods).
    kube_config = %q
    namespaces = [%q, %q]
    kubernetes_label_selector = "app.kubernetes.io/name=shop"
    port_names = ["https"]
    sync_timeout = "3s"
`, domain, sc.caFile, kubeconfig, nsEU, nsUS)
}

func telegrafConfig(pluginBin, pluginConf, output string) string {
	return fmt.Sprintf(`[agent]
  interval = %q
  flush_interval = "1s"
  omit_hostname = true

[[inputs.execd]]
  command = [%q, "-config", %q, "-poll_interval_disabled"]
  # Telegraf writes a newline to the plugin's stdin at every interval; it gathers once per line.
  signal = "STDIN"
  data_format = "influx"
  restart_delay = "10s"

[[outputs.file]]
  files = [%q]
  data_format = "influx"
`, interval, pluginBin, pluginConf, output)
}
