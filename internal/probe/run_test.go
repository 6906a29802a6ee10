package probe

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
)

// gateDialer refuses every address at once, except slow, whose dial waits until gate closes
// or the dial's context ends.
type gateDialer struct {
	slow string
	gate chan struct{}
}

var errRefused = errors.New("connection refused")

func (d *gateDialer) DialContext(ctx context.Context, _, address string) (net.Conn, error) {
	if address != d.slow {
		return nil, errRefused
	}
	select {
	case <-d.gate:
		return nil, errRefused
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type emitted struct {
	i int
	r Result
}

// Each probe reaches emit as soon as it ends: the fast probes' results arrive while a slow
// probe is still dialling, and every probe is emitted exactly once.
func TestStreamEmitsEachProbeAsItEnds(t *testing.T) {
	d := &gateDialer{slow: "127.0.0.9:443", gate: make(chan struct{})}
	probes := target.Expand([]target.Target{
		{Address: "127.0.0.9", Ports: []int{443}, Domains: []string{"slow.test"}},
		{Address: "127.0.0.1", Ports: []int{443, 444}, Domains: []string{"a.test", "b.test"}},
	})
	p := New(Config{Dialer: d, Timeout: time.Minute, Now: func() time.Time { return now }})
	out := make(chan emitted, len(probes))
	done := make(chan struct{})
	go func() {
		p.Stream(context.Background(), probes, 2, func(i int, r *Result) { out <- emitted{i, *r} })
		close(done)
	}()
	seen := map[int]bool{}
	for range len(probes) - 1 {
		select {
		case e := <-out:
			if e.i == 0 {
				t.Fatal("the slow probe was emitted before its dial returned")
			}
			if e.r.Probe != probes[e.i] || e.r.Status != StatusUnreachable {
				t.Fatalf("emit %d: probe %+v status %v, want %+v unreachable", e.i, e.r.Probe, e.r.Status, probes[e.i])
			}
			seen[e.i] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of the %d fast probes were emitted while the slow one was still dialling", len(seen), len(probes)-1)
		}
	}
	select {
	case <-done:
		t.Fatal("Stream returned while a probe was still running")
	default:
	}
	close(d.gate)
	<-done
	close(out)
	for e := range out {
		if e.i != 0 || seen[0] {
			t.Fatalf("extra emit %d", e.i)
		}
		seen[0] = true
	}
	if len(seen) != len(probes) {
		t.Fatalf("%d probes emitted, want %d", len(seen), len(probes))
	}
}

// When the budget ends while probes are still queued, each of them is still emitted once, as a
// timeout naming the budget.
func TestStreamEmitsQueuedProbesWhenBudgetEnds(t *testing.T) {
	d := &gateDialer{slow: "127.0.0.9:443", gate: make(chan struct{})}
	probes := target.Expand([]target.Target{
		{Address: "127.0.0.9", Ports: []int{443}, Domains: []string{"slow.test"}},
		{Address: "127.0.0.1", Ports: []int{1, 2, 3}, Domains: []string{"queued.test"}},
	})
	p := New(Config{Dialer: d, Timeout: 50 * time.Millisecond, Now: func() time.Time { return now }})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var mu sync.Mutex
	got := map[int]Result{}
	// One worker: the queued probes can only start after the slow one, which outlives the budget.
	p.Stream(ctx, probes, 1, func(i int, r *Result) {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := got[i]; dup {
			t.Errorf("probe %d emitted twice", i)
		}
		got[i] = *r
	})
	if len(got) != len(probes) {
		t.Fatalf("%d probes emitted, want %d", len(got), len(probes))
	}
	if r := got[0]; r.Status != StatusTimeout {
		t.Errorf("slow probe: status %v err %v, want timeout", r.Status, r.Err)
	}
	for i := 1; i < len(probes); i++ {
		if r := got[i]; r.Status != StatusTimeout || !errors.Is(r.Err, ErrBudgetExceeded) || r.At != now {
			t.Errorf("queued probe %d: status %v err %v at %v, want timeout with ErrBudgetExceeded at %v", i, r.Status, r.Err, r.At, now)
		}
	}
}
