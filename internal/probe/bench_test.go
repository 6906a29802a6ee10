package probe

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
)

// benchScene is 1,000 probes over loopback: 20 TLS listeners × 50 domains each.
type benchScene struct {
	probes  []target.Probe
	servers []*testcerts.Server
	hanging []*testcerts.Silent
	roots   *testcerts.CA
}

func newBenchScene(b *testing.B, listeners, domainsPer, hangingListeners int) *benchScene {
	b.Helper()
	now := time.Now()
	ca, err := testcerts.NewCA("Bench Root", now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	for i := range domainsPer {
		names = append(names, "d"+strconv.Itoa(i)+".bench.test")
	}
	leaf, err := ca.Issue(testcerts.Options{DNSNames: names, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	s := &benchScene{roots: ca}
	var targets []target.Target
	for i := range listeners {
		addr := "127.0.1." + strconv.Itoa(i+1)
		var port int
		if i < hangingListeners {
			// Accepts connections and never answers the ClientHello.
			l, err := testcerts.ServeSilent(addr + ":0")
			if err != nil {
				b.Fatal(err)
			}
			s.hanging = append(s.hanging, l)
			port = l.Port()
		} else {
			srv, err := testcerts.ServeLeaf(addr+":0", leaf)
			if err != nil {
				b.Fatal(err)
			}
			s.servers = append(s.servers, srv)
			port = srv.Port()
		}
		targets = append(targets, target.Target{Source: target.SourceStatic, Address: addr, Ports: []int{port}, Domains: names})
	}
	s.probes = target.Expand(targets)
	b.Cleanup(func() {
		for _, srv := range s.servers {
			srv.Close()
		}
		for _, l := range s.hanging {
			l.Close()
		}
	})
	return s
}

// BenchmarkGather1000 is the plugin's engine over 1,000 probes at the default concurrency,
// streamed as the plugin streams them: each Result is dropped as soon as it is counted. All 20
// listeners serve one chain, as replicas do, so the engine checks its signatures 50 times (once
// per domain) and judges every probe.
func BenchmarkGather1000(b *testing.B) {
	s := newBenchScene(b, 20, 50, 0)
	p := New(Config{Roots: s.roots.Pool(), Timeout: 5 * time.Second})
	b.ResetTimer()
	for range b.N {
		var valid atomic.Int64
		p.Stream(context.Background(), s.probes, DefaultConcurrency, func(_ int, r *Result) {
			if r.Status == StatusValid {
				valid.Add(1)
			}
		})
		if n := valid.Load(); n != int64(len(s.probes)) {
			b.Fatalf("%d of %d probes valid", n, len(s.probes))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(s.probes)), "µs/probe")
}

// BenchmarkFloorTLSDial is the floor: a bare loop of tls.Dial over the same 1,000 targets at
// the same concurrency and with the same key exchanges (curves), with no judging, verifying
// or result building.
func BenchmarkFloorTLSDial(b *testing.B) {
	benchFloor(b, func(*benchScene) *tls.Config { return &tls.Config{InsecureSkipVerify: true} })
}

// BenchmarkFloorTLSDialVerify is the floor as tls.Dial runs by default: verifying every
// handshake's chain against the same roots (1,000 verifications where the engine makes 50).
func BenchmarkFloorTLSDialVerify(b *testing.B) {
	benchFloor(b, func(s *benchScene) *tls.Config { return &tls.Config{RootCAs: s.roots.Pool()} })
}

// benchFloor dials every probe of a 1,000-probe scene with tls.Dial at DefaultConcurrency and
// reports µs/probe. Each dial's config takes RootCAs and InsecureSkipVerify from what base
// returns for the scene (called once, before the timer), the probe's domain as ServerName and
// the prober's curves.
func benchFloor(b *testing.B, base func(s *benchScene) *tls.Config) {
	s := newBenchScene(b, 20, 50, 0)
	tmpl := base(s)
	b.ResetTimer()
	for range b.N {
		next := make(chan target.Probe)
		var wg sync.WaitGroup
		for range DefaultConcurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for pr := range next {
					addr := net.JoinHostPort(pr.Target.Address, strconv.Itoa(pr.Port))
					cfg := &tls.Config{ServerName: pr.Domain, RootCAs: tmpl.RootCAs, InsecureSkipVerify: tmpl.InsecureSkipVerify, CurvePreferences: curves}
					c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
					if err != nil {
						panic(fmt.Sprint(addr, err))
					}
					c.Close()
				}
			}()
		}
		for _, pr := range s.probes {
			next <- pr
		}
		close(next)
		wg.Wait()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(s.probes)), "µs/probe")
}

// BenchmarkGatherHanging10pct: 1,000 probes of which 100 (two listeners × 50 domains) accept and
// never handshake, timeout 1 s, default concurrency. The target: the gather ends within the
// per-probe timeout plus 1 s. Reported as gather_s.
func BenchmarkGatherHanging10pct(b *testing.B) {
	s := newBenchScene(b, 20, 50, 2)
	const timeout = time.Second
	p := New(Config{Roots: s.roots.Pool(), Timeout: timeout})
	b.ResetTimer()
	var worst time.Duration
	for range b.N {
		start := time.Now()
		results := p.Run(context.Background(), s.probes, DefaultConcurrency)
		if d := time.Since(start); d > worst {
			worst = d
		}
		timeouts := 0
		for _, r := range results {
			if r.Status == StatusTimeout {
				timeouts++
			}
		}
		if timeouts != 100 {
			b.Fatalf("%d timeouts, want 100", timeouts)
		}
	}
	b.ReportMetric(worst.Seconds(), "worst_gather_s")
}
