package k8s

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// ScaleSizesEnv overrides the pod counts of BenchmarkScale, e.g. "2000,5000,10000" (the
// default). Pods are added to the same API server from one size to the next.
const ScaleSizesEnv = "CERTEXPIRY_SCALE_SIZES"

// ScaleRoundsEnv overrides the number of rounds per size (default 3).
const ScaleRoundsEnv = "CERTEXPIRY_SCALE_ROUNDS"

// ScaleChildEnv, set to NAME=VALUE, adds that variable to the plugin process's environment.
const ScaleChildEnv = "CERTEXPIRY_SCALE_CHILD_ENV"

const (
	scaleNamespaces = 10
	// scaleConcurrency is the plugin's default max_concurrency; the bare loop uses the same.
	scaleConcurrency = 128
	// Every scaleBadEvery-th pod (from pod 7) serves an expired certificate: 2 bad replicas at
	// 2,000 pods, 7 at 10,000.
	scaleBadEvery = 1500
	scaleBadFrom  = 7
)

var scaleDomains = []string{"shop.test", "www.shop.test"}

func scaleBad(i int) bool { return i%scaleBadEvery == scaleBadFrom }

// scalePod is a pod of the size real ones have: labels, a last-applied annotation, two
// containers with env and ports — so that the informer transform has something to strip. Its
// container port named "https" is port.
func scalePod(ns string, i, port int) *corev1.Pod {
	env := make([]corev1.EnvVar, 12)
	for j := range env {
		env[j] = corev1.EnvVar{Name: fmt.Sprintf("SETTING_%d", j), Value: strings.Repeat("v", 24)}
	}
	container := func(name, prefix string, port int32) corev1.Container {
		return corev1.Container{
			Name: name, Image: "registry.example/shop/" + name + ":1.2.3", Env: env,
			Ports: []corev1.ContainerPort{{Name: prefix + "https", ContainerPort: port}, {Name: prefix + "metrics", ContainerPort: port + 1}},
		}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: scalePodName(i),
			Labels: map[string]string{
				"app.kubernetes.io/name": "shop", "app.kubernetes.io/instance": "shop-prod",
				"app.kubernetes.io/version": "1.2.3", "pod-template-hash": "7d9f8c6b5", "tier": "frontend",
			},
			Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": strings.Repeat("x", 1500)},
		},
		Spec: corev1.PodSpec{
			NodeName:   scaleNode(i % scaleNodes),
			Containers: []corev1.Container{container("web", "", int32(port)), container("sidecar", "sc-", 9444)},
		},
	}
}

// scaleNodes is the number of nodes the pods are spread over; node scope probes node
// scaleNodeProbed's.
const (
	scaleNodes      = 50
	scaleNodeProbed = 7
)

func scaleNode(i int) string { return fmt.Sprintf("node-%02d", i) }

func scalePodName(i int) string { return fmt.Sprintf("web-%05d", i) }

func scaleNamespace(i int) string { return fmt.Sprintf("shop-%d", i%scaleNamespaces) }

// scaleIP gives pod i its own loopback address (127.1.0.0/16 and up).
func scaleIP(i int) string { return fmt.Sprintf("127.%d.%d.%d", 1+i/65000, (i%65000)/250, 1+i%250) }

// createScalePods creates pods from..to-1 (with Running/Ready status and their IP).
func createScalePods(b *testing.B, c kubernetes.Interface, from, to, port int) {
	ctx := context.Background()
	if from == 0 {
		for i := range scaleNamespaces {
			if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: scaleNamespace(i)}}, metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
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
				created, err := c.CoreV1().Pods(scaleNamespace(i)).Create(ctx, scalePod(scaleNamespace(i), i, port), metav1.CreateOptions{})
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
	for i := from; i < to; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}

// tlsFarm answers TLS on port at every pod address: one listener per address, all loopback.
// (A listener on 127.0.0.1 does not receive connections to 127.1.0.1; one wildcard listener
// would, but it would also be reachable from outside the machine. 10,000 sockets fit in the
// default limit of open files here, which the farm raises to its hard limit.) Bad pods' listeners
// serve an expired certificate for the same names.
type tlsFarm struct {
	port      int
	good, bad *tls.Config
	listeners []net.Listener
	wg        sync.WaitGroup
	// own, once set, makes every pod serve a certificate of its own (own[i], issued for the same
	// names, expired for bad pods) instead of the one all good pods share: a fleet where no two
	// pods' chains are alike.
	own     atomic.Bool
	ownCfgs []*tls.Config
}

func newTLSFarm(b *testing.B, good, bad *testcerts.Leaf) *tlsFarm {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	f := &tlsFarm{
		port: testenv.FreePort(b),
		good: &tls.Config{Certificates: []tls.Certificate{good.TLSCertificate()}},
		bad:  &tls.Config{Certificates: []tls.Certificate{bad.TLSCertificate()}},
	}
	b.Cleanup(f.close)
	return f
}

// serve adds listeners for pods from..to-1.
func (f *tlsFarm) serve(b *testing.B, from, to int) {
	for i := from; i < to; i++ {
		l, err := net.Listen("tcp", net.JoinHostPort(scaleIP(i), strconv.Itoa(f.port)))
		if err != nil {
			b.Fatalf("pod %d: %v", i, err)
		}
		f.listeners = append(f.listeners, l)
		shared := f.good
		if scaleBad(i) {
			shared = f.bad
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				cfg := shared
				if f.own.Load() {
					cfg = f.ownCfgs[i]
				}
				go func() {
					defer c.Close()
					_ = c.SetDeadline(time.Now().Add(30 * time.Second))
					tc := tls.Server(c, cfg)
					if tc.Handshake() == nil {
						// Wait for the client to hang up, as a server does.
						_, _ = io.Copy(io.Discard, tc)
					}
				}()
			}
		}()
	}
}

// issueOwn gives pods from..to-1 a certificate each from ca, for the scale domains: valid for
// 90 days, or expired 10 days ago for bad pods. They serve it while f.own is set.
func (f *tlsFarm) issueOwn(b *testing.B, ca *testcerts.CA, from, to int) {
	now := time.Now()
	for i := from; i < to; i++ {
		o := testcerts.Options{CommonName: scaleDomains[0], DNSNames: scaleDomains, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour)}
		if scaleBad(i) {
			o.NotBefore, o.NotAfter = now.Add(-100*24*time.Hour), now.Add(-10*24*time.Hour)
		}
		leaf, err := ca.Issue(o)
		if err != nil {
			b.Fatal(err)
		}
		f.ownCfgs = append(f.ownCfgs, &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}})
	}
}

func (f *tlsFarm) close() {
	for _, l := range f.listeners {
		l.Close()
	}
	f.wg.Wait()
}

// bareChildEnv, set to "PODS PORT CAFILE", makes the test binary run the bare loop instead of
// its tests (see TestMain) and print "NANOSECONDS EXPIRED CPU_NANOSECONDS".
const bareChildEnv = "CERTEXPIRY_SCALE_BARE_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(bareChildEnv); spec != "" {
		os.Exit(bareChild(spec))
	}
	os.Exit(m.Run())
}

func bareChild(spec string) int {
	var pods, port int
	var caFile string
	if _, err := fmt.Sscan(spec, &pods, &port, &caFile); err != nil {
		fmt.Fprintln(os.Stderr, "bare loop:", err)
		return 2
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare loop:", err)
		return 2
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	took, expired, err := bareLoop(pods, port, roots)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare loop:", err)
		return 1
	}
	cpu := func(r syscall.Rusage) int64 { return r.Utime.Nano() + r.Stime.Nano() }
	fmt.Println(took.Nanoseconds(), expired, cpu(after)-cpu(before))
	return 0
}

// bareLoop is the floor a gather is measured against: tls.Dial over every (pod, domain) at the
// same concurrency as the plugin, verifying against the same CA, offering the same key
// exchanges as the prober (the classic curves: Go's default hybrid post-quantum one costs a
// key pair per connection, which the prober does not make), keeping nothing. It returns
// how long it took and how many handshakes failed on an expired certificate; any other
// failure is an error.
// classicCurves are the key exchanges internal/probe offers.
var classicCurves = []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521}

func bareLoop(pods int, port int, roots *x509.CertPool) (time.Duration, int, error) {
	type job struct{ addr, domain string }
	next := make(chan job)
	var expired, other atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range scaleConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := &net.Dialer{Timeout: 10 * time.Second}
			for j := range next {
				c, err := tls.DialWithDialer(d, "tcp", j.addr, &tls.Config{ServerName: j.domain, RootCAs: roots, CurvePreferences: classicCurves})
				var invalid x509.CertificateInvalidError
				switch {
				case err == nil:
					c.Close()
				case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
					expired.Add(1)
				default:
					other.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	for i := range pods {
		for _, d := range scaleDomains {
			next <- job{net.JoinHostPort(scaleIP(i), strconv.Itoa(port)), d}
		}
	}
	close(next)
	wg.Wait()
	took := time.Since(start)
	if n := other.Load(); n > 0 {
		return took, 0, fmt.Errorf("%d handshakes failed, e.g. %v", n, firstErr.Load())
	}
	return took, int(expired.Load()), nil
}

// runBareLoop runs bareLoop in a process of its own, as the plugin runs in its own: on 2
// shared cores, a loop inside the benchmark process would compete with the TLS listeners'
// goroutines in one Go scheduler and make the floor look slower than it is. It returns the
// loop's wall time and CPU time.
func runBareLoop(b *testing.B, pods, port int, caFile string, wantExpired int) (time.Duration, time.Duration) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d %d %s", bareChildEnv, pods, port, caFile))
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		b.Fatalf("bare loop: %v\n%s", err, stderr)
	}
	var took, cpu int64
	var expired int
	if _, err := fmt.Sscan(string(out), &took, &expired, &cpu); err != nil {
		b.Fatalf("bare loop printed %q: %v", out, err)
	}
	if expired != wantExpired {
		b.Fatalf("bare loop: %d expired handshakes, want %d", expired, wantExpired)
	}
	return time.Duration(took), time.Duration(cpu)
}

// apiserverRequests sums apiserver_request_total for pods by verb (LIST, WATCH) from the API
// server's own /metrics: a count independent of the plugin's.
func apiserverRequests(b *testing.B, api *testenv.KubeAPI) map[string]int64 {
	c, err := kubernetes.NewForConfig(api.RESTConfig(testenv.KubeAdminToken))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := c.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	re := regexp.MustCompile(`^apiserver_request_total\{(.*)\} (\d+)$`)
	verbRE := regexp.MustCompile(`verb="([A-Z]+)"`)
	out := map[string]int64{}
	for _, line := range strings.Split(string(raw), "\n") {
		m := re.FindStringSubmatch(line)
		if m == nil || !strings.Contains(m[1], `resource="pods"`) || strings.Contains(m[1], `subresource="status"`) {
			continue
		}
		verb := verbRE.FindStringSubmatch(m[1])
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

// cpuTime reads a process's user + system CPU time from /proc/PID/stat (clock ticks of 10 ms).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// BenchmarkScale watches pods in a real kube-apiserver (10 namespaces, one informer each) with
// the real plugin binary under the execd protocol (a newline on stdin asks for a gather; line
// protocol on stdout), at several sizes (CERTEXPIRY_SCALE_SIZES, default 2,000, 5,000 and 10,000
// pods), each pod probed for 2 domains with a real TLS handshake: every pod IP is a loopback
// address with a TLS listener, and a few pods serve an expired certificate, which every
// gather must find. Per size and round it reports:
//   - gather_s: one gather (after a first one that also waits for the informers' first LIST),
//     from the request to its last row read back; bare_s: a bare tls.Dial loop over the same
//     probes at the same concurrency, verifying against the same CA, in a process of its own
//     like the plugin, in the same round (the order alternates between rounds);
//     ratio = gather_s / bare_s;
//   - first_row_ms: from the request to the first row read back (the discovery row, emitted
//     before any probe starts), and first_cert_row_ms to the first cert_expiry row: the fixed
//     cost in front of a gather's probes;
//   - peak_rss_MiB: the plugin process's VmHWM over its whole life, discovery included;
//   - cpu_ms_per_probe: the plugin's CPU time during the measured gather per probe, and
//     bare_cpu_ms_per_probe the bare loop's (less sensitive to the machine's other load);
//   - every gather must have one row per probe (zero missing), the bad pods' rows and only
//     those expired, all others valid.
//
// handshakes_own_certs repeats handshakes (2 rounds) with every pod serving a certificate of
// its own, so that no two probes share a chain: the plugin's case with the most verification.
//
// watch_only runs the same pods with no probe (no pod has the port name): discovery alone;
// its gather_ms is a gather with nothing to probe, request to row read back. At
// the largest size, telegraf (if built) then runs the plugin with the shipped ConfigMap's agent
// settings (see runTelegrafScale).
//
//	CERTEXPIRY_INTEGRATION=1 go test -run '^$' -bench BenchmarkScale -benchtime 1x -timeout 90m ./test/k8s/
func BenchmarkScale(b *testing.B) {
	sizes := []int{2000, 5000, 10000}
	if v := os.Getenv(ScaleSizesEnv); v != "" {
		sizes = nil
		for _, s := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n <= 0 {
				b.Fatalf("%s: %q is not a pod count", ScaleSizesEnv, s)
			}
			sizes = append(sizes, n)
		}
		sort.Ints(sizes)
	}
	rounds := 3
	if v := os.Getenv(ScaleRoundsEnv); v != "" {
		var err error
		if rounds, err = strconv.Atoi(v); err != nil || rounds < 1 {
			b.Fatalf("%s: %q is not a round count", ScaleRoundsEnv, v)
		}
	}

	now := time.Now()
	ca := must(testcerts.NewCA("Scale Root", now.Add(-24*time.Hour), now.Add(365*24*time.Hour)))
	good := must(ca.Issue(testcerts.Options{CommonName: scaleDomains[0], DNSNames: scaleDomains, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour)}))
	bad := must(ca.Issue(testcerts.Options{CommonName: scaleDomains[0], DNSNames: scaleDomains, NotBefore: now.Add(-100 * 24 * time.Hour), NotAfter: now.Add(-10 * 24 * time.Hour)}))
	farm := newTLSFarm(b, good, bad)

	api := testenv.StartKubeAPI(b)
	admin := api.AdminClient()
	dir := b.TempDir()
	bin := filepath.Join(dir, "telegraf-certexpiry")
	build := exec.Command("go", "build", "-o", bin, "./cmd/telegraf-certexpiry")
	build.Dir = testenv.RepoRoot(b)
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := writeFile(caFile, ca.CertPEM()); err != nil {
		b.Fatal(err)
	}
	var nss []string
	for i := range scaleNamespaces {
		nss = append(nss, strconv.Quote(scaleNamespace(i)))
	}
	var domains []string
	for _, d := range scaleDomains {
		domains = append(domains, strconv.Quote(d))
	}
	writeConf := func(name, gatherTimeout, portNames string) string {
		conf := fmt.Sprintf(`[[inputs.certexpiry]]
  domains = [%s]
  ca_file = %q
  timeout = "10s"
  gather_timeout = %q
  [inputs.certexpiry.kubernetes]
    kube_config = %q
    namespaces = [%s]
    sync_timeout = "300s"
    port_names = [%q]
`, strings.Join(domains, ", "), caFile, gatherTimeout, api.Kubeconfig(testenv.KubeAdminToken, "admin"), strings.Join(nss, ", "), portNames)
		path := filepath.Join(dir, name)
		if err := writeFile(path, []byte(conf)); err != nil {
			b.Fatal(err)
		}
		return path
	}
	probeConf := writeConf("probe.conf", "600s", "https")
	watchConf := writeConf("watch.conf", "600s", "no-such-port")

	have := 0
	for _, n := range sizes {
		created := time.Now()
		farm.issueOwn(b, ca, have, n)
		farm.serve(b, have, n)
		createScalePods(b, admin, have, n, farm.port)
		have = n
		b.Logf("%d pods created with status in %s", n, time.Since(created).Round(time.Second))
		for r := range rounds {
			b.Run(fmt.Sprintf("handshakes/pods=%d/round=%d", n, r+1), func(b *testing.B) {
				runHandshakes(b, api, bin, probeConf, n, farm.port, caFile, r%2 == 1)
			})
		}
		// The same with no two pods serving the same chain: the plugin verifies every probe's
		// chain, as the bare loop does.
		farm.own.Store(true)
		for r := range ownRounds(rounds) {
			b.Run(fmt.Sprintf("handshakes_own_certs/pods=%d/round=%d", n, r+1), func(b *testing.B) {
				runHandshakes(b, api, bin, probeConf, n, farm.port, caFile, r%2 == 1)
			})
		}
		farm.own.Store(false)
		b.Run(fmt.Sprintf("watch_only/pods=%d", n), func(b *testing.B) {
			runWatchOnly(b, bin, watchConf, n)
		})
	}
	// One DaemonSet pod: node scope, the pods of one node of 50.
	nodeConf := writeConf("node.conf", "600s", "https")
	nodeConf = rewrite(b, nodeConf, "[inputs.certexpiry.kubernetes]", "[inputs.certexpiry.kubernetes]\n    pod_scrape_scope = \"node\"\n    node_name = \""+scaleNode(scaleNodeProbed)+"\"")
	b.Run(fmt.Sprintf("node_scope/pods=%d", have), func(b *testing.B) {
		runNodeScope(b, api, bin, nodeConf, have)
	})
	if testenv.Integration() {
		b.Run(fmt.Sprintf("telegraf/pods=%d", have), func(b *testing.B) {
			runTelegrafScale(b, bin, writeConf("shipped.conf", shippedGatherTimeout(b), "https"), have)
		})
	}
}

// pluginProcess is the plugin binary driven as execd drives it. Its stdout goes to a file
// that gather reads as it grows: read through a pipe, the reader — one goroutine among the
// TLS listeners' hundreds in this process — fell behind, the pipe filled and the plugin's
// workers waited on it, which measured this process's scheduling, not the plugin.
type pluginProcess struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	out     *os.File
	buf     []byte // read buffer, reused: allocating one per line made this process collect
	pending []byte // garbage, and slowed the TLS listeners, in the middle of the gather
	stderr  *strings.Builder
	start   time.Time
	exited  chan struct{}
}

func startPlugin(b *testing.B, bin, conf string) *pluginProcess {
	p := &pluginProcess{cmd: exec.Command(bin, "-config", conf, "-poll_interval_disabled"), stderr: &strings.Builder{}, exited: make(chan struct{})}
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "stdout")
	w, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close() // the child has its own descriptor
	if p.out, err = os.Open(path); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.out.Close() })
	p.cmd.Stdout = w
	p.cmd.Stderr = p.stderr
	if extra := os.Getenv(ScaleChildEnv); extra != "" {
		p.cmd.Env = append(os.Environ(), extra) // e.g. GODEBUG=gctrace=1 to see the plugin's heap
	}
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	return p
}

func (p *pluginProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.stdin.Close()
	<-p.exited
}

// nextLine returns the next complete line of the plugin's output, waiting for it up to the
// deadline; false when the plugin exited or the deadline passed.
func (p *pluginProcess) nextLine(deadline time.Time) (string, bool) {
	if p.buf == nil {
		p.buf = make([]byte, 256<<10)
	}
	for {
		if i := bytesIndexNL(p.pending); i >= 0 {
			line := string(p.pending[:i])
			p.pending = p.pending[i+1:]
			return line, true
		}
		n, _ := p.out.Read(p.buf)
		if n > 0 {
			p.pending = append(p.pending, p.buf[:n]...)
			continue
		}
		select {
		case <-p.exited:
			return "", false
		default:
		}
		if time.Now().After(deadline) {
			return "", false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func bytesIndexNL(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
	}
	return -1
}

// gatherResult is what one gather's rows said.
type gatherResult struct {
	took      time.Duration
	firstRow  time.Duration  // from the request to the first row read back (the discovery row)
	firstCert time.Duration  // from the request to the first cert_expiry row read back
	discovery string         // the cert_expiry_discovery line
	statuses  map[string]int // status tag → rows
	expired   []string       // pods whose rows were expired
}

// tagValue returns the value of tag key in a line protocol series key (no escapes needed here).
func tagValue(series, key string) string {
	i := strings.Index(series, ","+key+"=")
	if i < 0 {
		return ""
	}
	v := series[i+len(key)+2:]
	if j := strings.IndexByte(v, ','); j >= 0 {
		v = v[:j]
	}
	return v
}

// gather asks for one gather and reads its rows: one cert_expiry_discovery row and probes
// cert_expiry rows, each probe (pod, domain) exactly once.
func (p *pluginProcess) gather(b *testing.B, probes int) gatherResult {
	start := time.Now()
	if _, err := io.WriteString(p.stdin, "\n"); err != nil {
		b.Fatal(err)
	}
	res := gatherResult{statuses: map[string]int{}}
	seen := make(map[string]bool, probes)
	rows := 0
	deadline := start.Add(15 * time.Minute)
	for rows < probes || res.discovery == "" {
		line, ok := p.nextLine(deadline)
		if !ok {
			break
		}
		if res.firstRow == 0 {
			res.firstRow = time.Since(start)
		}
		switch {
		case strings.HasPrefix(line, "cert_expiry_discovery,"):
			res.discovery = line
		case strings.HasPrefix(line, "cert_expiry,"):
			if rows == 0 {
				res.firstCert = time.Since(start)
			}
			rows++
			head, _, _ := strings.Cut(line, " ")
			pod, domain, status := tagValue(head, "pod"), tagValue(head, "domain"), tagValue(head, "status")
			key := pod + " " + domain
			if seen[key] {
				b.Fatalf("two rows for %s", key)
			}
			seen[key] = true
			res.statuses[status]++
			if status == "expired" {
				res.expired = append(res.expired, pod)
			}
		}
	}
	res.took = time.Since(start)
	if rows < probes || res.discovery == "" {
		b.Fatalf("gather: %d rows of %d, discovery %q\nstderr:\n%s", rows, probes, res.discovery, p.stderr)
	}
	return res
}

// check fails unless the gather probed exactly pods (indices), found exactly the bad ones
// among them, each for every domain, and every other probe valid.
func (r gatherResult) check(b *testing.B, pods []int) {
	b.Helper()
	var wantExpired []string
	for _, i := range pods {
		if scaleBad(i) {
			for range scaleDomains {
				wantExpired = append(wantExpired, scalePodName(i))
			}
		}
	}
	sort.Strings(r.expired)
	valid := (len(pods) - len(wantExpired)/len(scaleDomains)) * len(scaleDomains)
	if fmt.Sprint(r.expired) != fmt.Sprint(wantExpired) || r.statuses["valid"] != valid || r.statuses["expired"] != len(wantExpired) ||
		len(r.statuses) > 2 {
		b.Fatalf("statuses %v, expired pods %v; want %d valid and expired exactly %v", r.statuses, r.expired, valid, wantExpired)
	}
	if !strings.Contains(r.discovery, "synced=true") || !strings.Contains(r.discovery, fmt.Sprintf("pods=%di", len(pods))) ||
		!strings.Contains(r.discovery, fmt.Sprintf("targets=%di", len(pods))) {
		b.Fatalf("discovery not complete: %s", r.discovery)
	}
}

// upTo returns the pod indices 0..n-1.
func upTo(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// runHandshakes: one plugin process, a first gather (it waits for the informers' first LIST),
// then the measured gather and the bare loop, bare first when bareFirst.
func runHandshakes(b *testing.B, api *testenv.KubeAPI, bin, conf string, pods, port int, caFile string, bareFirst bool) {
	probes := pods * len(scaleDomains)
	bad := 0
	for i := range pods {
		if scaleBad(i) {
			bad++
		}
	}
	for range b.N {
		before := apiserverRequests(b, api)
		p := startPlugin(b, bin, conf)
		first := p.gather(b, probes)
		first.check(b, upTo(pods))
		firstGather := time.Since(p.start)

		var bare, bareCPU time.Duration
		bareLoopOnce := func() { bare, bareCPU = runBareLoop(b, pods, port, caFile, bad*len(scaleDomains)) }
		if bareFirst {
			bareLoopOnce()
		}
		cpu0, err := cpuTime(p.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		g := p.gather(b, probes)
		cpu1, err := cpuTime(p.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		g.check(b, upTo(pods))
		if !bareFirst {
			bareLoopOnce()
		}
		rss, err := peakRSS(p.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		p.stop()
		after := apiserverRequests(b, api)
		if strings.Contains(p.stderr.String(), "E! ") {
			b.Fatalf("plugin logged errors:\n%s", p.stderr)
		}
		if os.Getenv(ScaleChildEnv) != "" { // e.g. the gctrace lines asked for
			b.Logf("plugin stderr:\n%s", p.stderr)
		}
		b.ReportMetric(float64(pods), "pods")
		b.ReportMetric(float64(probes), "probes")
		b.ReportMetric(0, "probes_missing") // gather and check fail otherwise
		b.ReportMetric(float64(len(g.expired)), "expired_rows_found")
		b.ReportMetric(g.took.Seconds(), "gather_s")
		b.ReportMetric(bare.Seconds(), "bare_s")
		b.ReportMetric(g.took.Seconds()/bare.Seconds(), "ratio")
		b.ReportMetric(float64(g.firstRow.Microseconds())/1000, "first_row_ms")
		b.ReportMetric(float64(g.firstCert.Microseconds())/1000, "first_cert_row_ms")
		b.ReportMetric(float64(rss)/(1<<20), "peak_rss_MiB")
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/1000/float64(probes), "cpu_ms_per_probe")
		b.ReportMetric(float64(bareCPU.Microseconds())/1000/float64(probes), "bare_cpu_ms_per_probe")
		b.ReportMetric(firstGather.Seconds(), "first_gather_s")
		b.ReportMetric(float64(after["LIST"]-before["LIST"]), "apiserver_pod_LISTs")
		b.ReportMetric(float64(after["WATCH"]-before["WATCH"]), "apiserver_pod_WATCHes")
	}
}

// runNodeScope: one DaemonSet pod's plugin (node scope) with the pods of one node: 3 gathers;
// its peak RSS, gather time and what it asked of the API server.
func runNodeScope(b *testing.B, api *testenv.KubeAPI, bin, conf string, pods int) {
	var mine []int
	for i := range pods {
		if i%scaleNodes == scaleNodeProbed {
			mine = append(mine, i)
		}
	}
	probes := len(mine) * len(scaleDomains)
	for range b.N {
		before := apiserverRequests(b, api)
		p := startPlugin(b, bin, conf)
		var g gatherResult
		for range 3 {
			g = p.gather(b, probes)
			g.check(b, mine)
		}
		rss, err := peakRSS(p.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		p.stop()
		after := apiserverRequests(b, api)
		b.ReportMetric(float64(pods), "pods_in_cluster")
		b.ReportMetric(float64(len(mine)), "pods_on_node")
		b.ReportMetric(float64(probes), "probes")
		b.ReportMetric(g.took.Seconds(), "gather_s")
		b.ReportMetric(float64(rss)/(1<<20), "peak_rss_MiB")
		b.ReportMetric(float64(after["LIST"]-before["LIST"]), "apiserver_pod_LISTs")
		b.ReportMetric(float64(after["WATCH"]-before["WATCH"]), "apiserver_pod_WATCHes")
	}
}

// rewrite replaces old by repl in the file at path and returns path.
func rewrite(b *testing.B, path, old, repl string) string {
	data, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(data), old) {
		b.Fatalf("%s: %v or no %q", path, err, old)
	}
	out := strings.TrimSuffix(path, ".conf") + "-node.conf"
	if err := writeFile(out, []byte(strings.Replace(string(data), old, repl, 1))); err != nil {
		b.Fatal(err)
	}
	return out
}

// runWatchOnly: the same pods cached, none probed, 3 gathers: discovery alone.
func runWatchOnly(b *testing.B, bin, conf string, pods int) {
	for range b.N {
		p := startPlugin(b, bin, conf)
		var last gatherResult
		for range 3 {
			last = p.gather(b, 0)
		}
		if !strings.Contains(last.discovery, fmt.Sprintf("pods=%di", pods)) || !strings.Contains(last.discovery, "targets=0i") {
			b.Fatalf("discovery: %s", last.discovery)
		}
		rss, err := peakRSS(p.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		p.stop()
		b.ReportMetric(float64(pods), "pods")
		b.ReportMetric(float64(rss)/(1<<20), "peak_rss_MiB")
		b.ReportMetric(float64(last.took.Microseconds())/1000, "gather_ms")
	}
}

// ownRounds is how many rounds of own certificates follow the shared ones: as many, at most 2
// (a fleet of distinct chains is the less common case; two rounds show its cost).
func ownRounds(rounds int) int { return min(rounds, 2) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
