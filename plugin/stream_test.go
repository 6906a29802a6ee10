package plugin

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/duration"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
)

// gateDialer dials for real, except slow, whose dial waits until gate closes (then is
// refused) or its context ends.
type gateDialer struct {
	slow string
	gate chan struct{}
}

func (d *gateDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if address != d.slow {
		return (&net.Dialer{}).DialContext(ctx, network, address)
	}
	select {
	case <-d.gate:
		return nil, errors.New("connect: connection refused")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// signalAcc records rows and signals each cert_expiry row on added.
type signalAcc struct {
	metrictest.Accumulator
	added chan struct{}
}

func (a *signalAcc) AddFields(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	a.Accumulator.AddFields(m, f, t, ts...)
	if m == Measurement {
		a.added <- struct{}{}
	}
}

// tickingClock returns base, base+1s, base+2s, ... on successive calls.
func tickingClock(base time.Time) func() time.Time {
	var mu sync.Mutex
	n := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return base.Add(time.Duration(n-1) * time.Second)
	}
}

// A probe's row is added as soon as the probe ends, while slower probes of the same gather are
// still running; every row of the gather carries the gather's own time, however long it runs.
func TestGatherAddsEachRowAsItsProbeEnds(t *testing.T) {
	root := must(testcerts.NewCA("Root", now.Add(-day), now.Add(365*day)))
	leaf := must(root.Issue(testcerts.Options{DNSNames: []string{"a.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day)}))
	srv := must(testcerts.ServeLeaf("127.0.0.1:0", leaf))
	t.Cleanup(func() { srv.Close() })

	d := &gateDialer{slow: "127.0.0.9:443", gate: make(chan struct{})}
	c := New()
	c.now = tickingClock(now)
	c.dialer = d
	c.Domains = []string{"a.test"}
	c.CAFile = writeFile(t, "ca.pem", root.CertPEM())
	c.Timeout = duration.Duration(time.Minute)
	c.Targets = []StaticTarget{{Address: "127.0.0.9", Ports: []int{443}}, {Address: "127.0.0.1", Ports: []int{srv.Port()}}}
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	acc := &signalAcc{added: make(chan struct{}, 2)}
	done := make(chan error, 1)
	go func() { done <- c.Gather(acc) }()

	select {
	case <-acc.added:
	case <-time.After(10 * time.Second):
		t.Fatal("no row was added while one probe was still dialling")
	}
	rows := acc.Measurement(Measurement)
	if len(rows) != 1 || rows[0].Tags["address"] != "127.0.0.1" || rows[0].Tags["status"] != "valid" {
		t.Fatalf("rows before the slow probe ended: %v, want the valid row of 127.0.0.1", rows)
	}
	select {
	case err := <-done:
		t.Fatalf("Gather returned (%v) while a probe was still running", err)
	default:
	}
	close(d.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rows = acc.Measurement(Measurement)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2: %v", len(rows), rows)
	}
	want := metrictest.Row{Measurement: Measurement, Time: now,
		Tags:   map[string]string{"source": "static", "address": "127.0.0.9", "port": "443", "domain": "a.test", "status": "unreachable"},
		Fields: map[string]any{"status_code": int64(4), "error": "dial 127.0.0.9:443: connect: connection refused"}}
	if !reflect.DeepEqual(rows[1], want) {
		t.Errorf("slow probe's row\n got %v\nwant %v", rows[1], want)
	}
	for _, r := range rows {
		if !r.Time.Equal(now) {
			t.Errorf("row %s stamped %v, want the gather's time %v", r.Tags["address"], r.Time, now)
		}
	}
}

// Probes still queued when gather_timeout ends each get their timeout row.
func TestGatherReportsProbesTheBudgetLeftUnstarted(t *testing.T) {
	d := &gateDialer{slow: "127.0.0.9:443", gate: make(chan struct{})}
	defer close(d.gate)
	c := New()
	c.now = func() time.Time { return now }
	c.dialer = d
	c.Domains = []string{"a.test", "b.test"}
	c.Timeout = duration.Duration(time.Minute)
	c.GatherTimeout = duration.Duration(100 * time.Millisecond)
	c.MaxConcurrency = 1
	c.Targets = []StaticTarget{{Address: "127.0.0.9", Ports: []int{443}, Domains: []string{"slow.test"}}, {Address: "127.0.0.1", Ports: []int{1}}}
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	acc := &metrictest.Accumulator{}
	if err := c.Gather(acc); err != nil {
		t.Fatal(err)
	}
	row := func(addr string, port int, domain, err string) metrictest.Row {
		return metrictest.Row{Measurement: Measurement, Time: now,
			Tags:   map[string]string{"source": "static", "address": addr, "port": strconv.Itoa(port), "domain": domain, "status": "timeout"},
			Fields: map[string]any{"status_code": int64(6), "error": err}}
	}
	want := []metrictest.Row{
		row("127.0.0.9", 443, "slow.test", "dial 127.0.0.9:443: context deadline exceeded"),
		row("127.0.0.1", 1, "a.test", "gather budget exhausted before the probe started"),
		row("127.0.0.1", 1, "b.test", "gather budget exhausted before the probe started"),
	}
	got := inProbeOrder(t, acc.Measurement(Measurement), want)
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("row %d\n got %v\nwant %v", i, got[i], want[i])
		}
	}
}
