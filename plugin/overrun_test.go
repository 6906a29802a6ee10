package plugin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/discovery"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
)

// recLog records log lines as "W! text".
type recLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *recLog) add(level string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level+" "+fmt.Sprint(args...))
}
func (l *recLog) Level() telegraf.LogLevel  { return telegraf.Trace }
func (l *recLog) AddAttribute(string, any)  {}
func (l *recLog) Errorf(f string, a ...any) { l.add("E!", fmt.Sprintf(f, a...)) }
func (l *recLog) Error(a ...any)            { l.add("E!", a...) }
func (l *recLog) Warnf(f string, a ...any)  { l.add("W!", fmt.Sprintf(f, a...)) }
func (l *recLog) Warn(a ...any)             { l.add("W!", a...) }
func (l *recLog) Infof(f string, a ...any)  { l.add("I!", fmt.Sprintf(f, a...)) }
func (l *recLog) Info(a ...any)             { l.add("I!", a...) }
func (l *recLog) Debugf(f string, a ...any) { l.add("D!", fmt.Sprintf(f, a...)) }
func (l *recLog) Debug(a ...any)            { l.add("D!", a...) }
func (l *recLog) Tracef(f string, a ...any) { l.add("T!", fmt.Sprintf(f, a...)) }
func (l *recLog) Trace(a ...any)            { l.add("T!", a...) }
func (l *recLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// stepClock is a settable clock; its dialer moves it to the end of the current gather, so
// a gather "takes" exactly as long as the test says.
type stepClock struct {
	mu       sync.Mutex
	t, until time.Time
}

func (s *stepClock) now() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.t }

func (s *stepClock) DialContext(context.Context, string, string) (net.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.t = s.until
	return nil, errors.New("connect: connection refused")
}

// gatherAt runs one gather from start to end (seconds after now).
func (s *stepClock) gatherAt(t *testing.T, c *CertExpiry, start, end float64) {
	t.Helper()
	s.mu.Lock()
	s.t, s.until = now.Add(durationOf(start)), now.Add(durationOf(end))
	s.mu.Unlock()
	if err := c.Gather(&metrictest.Accumulator{}); err != nil {
		t.Fatal(err)
	}
}

func overrunPlugin(t *testing.T, kube bool) (*CertExpiry, *stepClock, *recLog) {
	t.Helper()
	clock, log := &stepClock{}, &recLog{}
	c := New()
	c.now, c.dialer, c.Log = clock.now, clock, log
	c.Domains = []string{"a.test"}
	c.Targets = []StaticTarget{{Address: "127.0.0.1", Ports: []int{443}}}
	if kube {
		c.Kubernetes = &discovery.Config{}
	}
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	return c, clock, log
}

func warnings(log *recLog) []string {
	var out []string
	for _, l := range log.all() {
		if strings.HasPrefix(l, "W! ") {
			out = append(out, l)
		}
	}
	return out
}

const advice = "; Telegraf drops the requests that arrive meanwhile, so some intervals get no rows. " +
	"Raise the interval (the execd input's, or the agent's), or shorten gathers: raise max_concurrency (now 128), " +
	"lower timeout (now 5s) or gather_timeout (now 30s)"

// Requests every 60 s; the third gather takes 70 s: one warning naming both, when it ends,
// and none for the gathers that then run back to back.
func TestOverrunWarnsOnceWithBothDurations(t *testing.T) {
	c, clock, log := overrunPlugin(t, false)
	clock.gatherAt(t, c, 0, 30) // first gather: not judged
	clock.gatherAt(t, c, 60, 65)
	clock.gatherAt(t, c, 120, 125)
	if w := warnings(log); len(w) != 0 {
		t.Fatalf("warnings while gathers fit the interval: %q", w)
	}
	clock.gatherAt(t, c, 180, 250)
	want := []string{"W! a gather took 1m10s, longer than the 1m0s between gather requests" + advice}
	if w := warnings(log); fmt.Sprint(w) != fmt.Sprint(want) {
		t.Fatalf("warnings\n got %q\nwant %q", w, want)
	}
	clock.gatherAt(t, c, 250, 320)
	clock.gatherAt(t, c, 320, 390)
	if w := warnings(log); len(w) != 1 {
		t.Fatalf("warned %d times, want once: %q", len(w), w)
	}
}

// Gathers back to back from the start: the time between requests is never seen, so the
// warning says they come more often than a gather takes; with Kubernetes discovery it also
// points at the node scope.
func TestOverrunWarnsWhenRequestsAlwaysWait(t *testing.T) {
	c, clock, log := overrunPlugin(t, true)
	clock.gatherAt(t, c, 0, 25)
	clock.gatherAt(t, c, 25, 50)
	if w := warnings(log); len(w) != 0 {
		t.Fatalf("warned after the first gather's overrun alone: %q", w)
	}
	clock.gatherAt(t, c, 50.001, 75)
	want := []string{"W! a gather took 25s and the next gather request was already waiting when it ended: requests come more often than every 25s" +
		advice + `, or probe per node with pod_scrape_scope = "node" (the DaemonSet)`}
	if w := warnings(log); fmt.Sprint(w) != fmt.Sprint(want) {
		t.Fatalf("warnings\n got %q\nwant %q", w, want)
	}
}

// A slow first gather (it waits for the informers' first LIST) is no overrun, nor is a gather
// that ends just before the next request.
func TestOverrunIgnoresFirstGatherAndNearMisses(t *testing.T) {
	c, clock, log := overrunPlugin(t, false)
	clock.gatherAt(t, c, 0, 90)
	clock.gatherAt(t, c, 90, 95)
	clock.gatherAt(t, c, 120, 149.9)
	clock.gatherAt(t, c, 150, 179.9)
	clock.gatherAt(t, c, 180, 185)
	if w := warnings(log); len(w) != 0 {
		t.Fatalf("warnings: %q", w)
	}
}

// Gathers called in a loop (a test, a one-off check) run back to back but are quick: no
// overrun.
func TestOverrunIgnoresQuickGathersInALoop(t *testing.T) {
	c, clock, log := overrunPlugin(t, false)
	for i := range 10 {
		clock.gatherAt(t, c, float64(i)*0.2, float64(i)*0.2+0.2)
	}
	if w := warnings(log); len(w) != 0 {
		t.Fatalf("warnings: %q", w)
	}
}
