package k8s

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// ScalePodsEnv overrides the number of pods of BenchmarkScale (default 10,000).
const ScalePodsEnv = "CERTEXPIRY_SCALE_PODS"

// ScaleChildEnv, set to NAME=VALUE, adds that variable to the plugin process's environment.
const ScaleChildEnv = "CERTEXPIRY_SCALE_CHILD_ENV"

const scaleNamespaces = 10

// scalePod is a pod of the size real ones have: labels, a last-applied annotation, two
// containers with env and ports — so that the informer transform has something to strip.
func scalePod(ns string, i int) *corev1.Pod {
	env := make([]corev1.EnvVar, 12)
	for j := range env {
		env[j] = corev1.EnvVar{Name: fmt.Sprintf("SETTING_%d", j), Value: strings.Repeat("v", 24)}
	}
	container := func(name, prefix string, port int32) corev1.Container {
		return corev1.Container{
			Name: name, Image: "registry.example/shop/" + name + ":1.2.3", Env: env,
			Ports: []corev1.ContainerPort{{Name: prefix + "https", ContainerPort: port}, {Name: prefix + "metrics", ContainerPort: port + 1000}},
		}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: fmt.Sprintf("web-%05d", i),
			Labels: map[string]string{
				"app.kubernetes.io/name": "shop", "app.kubernetes.io/instance": "shop-prod",
				"app.kubernetes.io/version": "1.2.3", "pod-template-hash": "7d9f8c6b5", "tier": "frontend",
			},
			Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": strings.Repeat("x", 1500)},
		},
		Spec: corev1.PodSpec{
			NodeName:   fmt.Sprintf("node-%02d", i%50),
			Containers: []corev1.Container{container("web", "", 8443), container("sidecar", "sc-", 9444)},
		},
	}
}

// scaleIP gives pod i its own loopback address (127.1.0.0/16 and up).
func scaleIP(i int) string { return fmt.Sprintf("127.%d.%d.%d", 1+i/65000, (i%65000)/250, 1+i%250) }

func createScalePods(b *testing.B, c kubernetes.Interface, n int) {
	ctx := context.Background()
	for i := range scaleNamespaces {
		if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("shop-%d", i)}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				created, err := c.CoreV1().Pods(fmt.Sprintf("shop-%d", i%scaleNamespaces)).Create(ctx, scalePod(fmt.Sprintf("shop-%d", i%scaleNamespaces), i), metav1.CreateOptions{})
				if err == nil {
					err = updateStatus(c, created, scaleIP(i), true)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}

// apiserverRequests sums apiserver_request_total for pods by verb (LIST, WATCH) from the API
// server's own /metrics: a count independent of the plugin's.
func apiserverRequests(b *testing.B, api *testenv.KubeAPI) map[string]int64 {
	cfg := api.RESTConfig(testenv.KubeAdminToken)
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := c.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	re := regexp.MustCompile(`^apiserver_request_total\{(.*)\} (\d+)$`)
	out := map[string]int64{}
	for _, line := range strings.Split(string(raw), "\n") {
		m := re.FindStringSubmatch(line)
		if m == nil || !strings.Contains(m[1], `resource="pods"`) || strings.Contains(m[1], `subresource="status"`) {
			continue
		}
		verb := regexp.MustCompile(`verb="([A-Z]+)"`).FindStringSubmatch(m[1])
		n, _ := strconv.ParseInt(m[2], 10, 64)
		if verb != nil && (verb[1] == "LIST" || verb[1] == "WATCH") {
			out[verb[1]] += n
		}
	}
	return out
}

// peakRSS reads VmHWM (peak resident set size) of a process, in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, err := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// BenchmarkScale watches 10,000 pods (10 namespaces, one informer each) in a real
// kube-apiserver with the real plugin binary under the execd protocol (a newline on stdin asks
// for a gather; line protocol on stdout), and reports: the plugin process's peak RSS, the time
// from process start to the end of the first complete gather (every pod probed), and the API
// requests the plugin made over 10 gathers — by its own count and by the API server's
// apiserver_request_total. Pods' IPs are loopback addresses without listeners, so each probe
// ends quickly in "unreachable". Two runs share the pods: probe_all (every pod probed: the
// figures are those of discovery plus the probe engine) and watch_only (the same pods cached
// but none probed: discovery alone).
//
//	CERTEXPIRY_INTEGRATION=1 go test -run '^$' -bench BenchmarkScale -benchtime 1x -timeout 30m ./test/k8s/
func BenchmarkScale(b *testing.B) {
	n := 10000
	if v := os.Getenv(ScalePodsEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("%s: %v", ScalePodsEnv, err)
		}
	}
	api := testenv.StartKubeAPI(b)
	admin := api.AdminClient()
	created := time.Now()
	createScalePods(b, admin, n)
	b.Logf("created %d pods with status in %s", n, time.Since(created).Round(time.Second))

	dir := b.TempDir()
	bin := filepath.Join(dir, "telegraf-certexpiry")
	build := exec.Command("go", "build", "-o", bin, "./cmd/telegraf-certexpiry")
	build.Dir = testenv.RepoRoot(b)
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	var nss []string
	for i := range scaleNamespaces {
		nss = append(nss, strconv.Quote(fmt.Sprintf("shop-%d", i)))
	}
	writeConf := func(name, ports string) string {
		conf := fmt.Sprintf(`[[inputs.certexpiry]]
  domains = ["shop.test"]
  timeout = "2s"
  gather_timeout = "120s"
  [inputs.certexpiry.kubernetes]
    kube_config = %q
    namespaces = [%s]
    sync_timeout = "120s"
    %s
`, api.Kubeconfig(testenv.KubeAdminToken, "admin"), strings.Join(nss, ", "), ports)
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			b.Fatal(err)
		}
		return path
	}
	// probe_all: every pod is a target, probed on a port nobody listens on.
	b.Run("probe_all", func(b *testing.B) {
		runScale(b, api, bin, writeConf("all.conf", fmt.Sprintf("ports = [%d]", testenv.FreePort(b))), n, n)
	})
	// watch_only: the same 10,000 pods are cached, but no pod has a port of that name, so
	// nothing is probed: the cost of discovery alone.
	b.Run("watch_only", func(b *testing.B) {
		runScale(b, api, bin, writeConf("none.conf", `port_names = ["no-such-port"]`), n, 0)
	})
}

// runScale runs the plugin binary with conf for 10 gathers; each gather must report pods
// pods and targets targets (one cert_expiry row each).
func runScale(b *testing.B, api *testenv.KubeAPI, bin, conf string, pods, targets int) {
	for range b.N {
		before := apiserverRequests(b, api)
		cmd := exec.Command(bin, "-config", conf, "-poll_interval_disabled")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if extra := os.Getenv(ScaleChildEnv); extra != "" {
			cmd.Env = append(os.Environ(), extra) // e.g. GODEBUG=gctrace=1 to see the plugin's heap
		}
		b.ResetTimer()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		lines.Buffer(make([]byte, 1<<20), 1<<20)
		var firstGather time.Duration
		var lastDiscovery string
		for g := range 10 {
			if _, err := io.WriteString(stdin, "\n"); err != nil {
				b.Fatal(err)
			}
			rows, seen := 0, false
			for (rows < targets || !seen) && lines.Scan() {
				line := lines.Text()
				switch {
				case strings.HasPrefix(line, "cert_expiry,"):
					rows++
				case strings.HasPrefix(line, "cert_expiry_discovery,"):
					seen, lastDiscovery = true, line
					if !strings.Contains(line, "synced=true") || !strings.Contains(line, fmt.Sprintf("pods=%di", pods)) ||
						!strings.Contains(line, fmt.Sprintf("targets=%di", targets)) {
						b.Fatalf("gather %d: discovery not complete: %s\nstderr:\n%s", g+1, line, stderr.String())
					}
				}
			}
			if rows < targets || !seen {
				b.Fatalf("gather %d: %d rows, want %d (%v)\nstderr:\n%s", g+1, rows, targets, lines.Err(), stderr.String())
			}
			if g == 0 {
				firstGather = time.Since(start)
			}
		}
		b.StopTimer()
		rss, err := peakRSS(cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = stdin.Close()
		_ = cmd.Wait()
		after := apiserverRequests(b, api)

		own := regexp.MustCompile(`api_requests=(\d+)i`).FindStringSubmatch(lastDiscovery)
		if own == nil {
			b.Fatalf("no api_requests in %s", lastDiscovery)
		}
		ownN, _ := strconv.ParseFloat(own[1], 64)
		b.ReportMetric(float64(pods), "pods")
		b.ReportMetric(float64(targets), "probes_per_gather")
		b.ReportMetric(float64(rss)/(1<<20), "peak_rss_MiB")
		b.ReportMetric(firstGather.Seconds(), "first_gather_s")
		b.ReportMetric(ownN, "api_requests_10_gathers")
		b.ReportMetric(float64(after["LIST"]-before["LIST"]), "apiserver_pod_LISTs")
		b.ReportMetric(float64(after["WATCH"]-before["WATCH"]), "apiserver_pod_WATCHes")
	}
}
