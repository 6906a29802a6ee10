package plugin

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/influxdata/telegraf"
)

// row is one metric as the plugin handed it to Telegraf.
type row struct {
	Measurement string
	Tags        map[string]string
	Fields      map[string]any
	Time        time.Time
}

// accumulator records what the plugin emits. It is deliberately small: Telegraf's testutil
// pulls in testcontainers and Docker's client, which would slow every test build.
type accumulator struct {
	mu     sync.Mutex
	rows   []row
	errors []error
}

func (a *accumulator) AddFields(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := row{Measurement: m, Tags: t, Fields: f}
	if len(ts) > 0 {
		r.Time = ts[0]
	}
	a.rows = append(a.rows, r)
}
func (a *accumulator) AddGauge(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	a.AddFields(m, f, t, ts...)
}
func (a *accumulator) AddCounter(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	a.AddFields(m, f, t, ts...)
}
func (a *accumulator) AddSummary(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	a.AddFields(m, f, t, ts...)
}
func (a *accumulator) AddHistogram(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	a.AddFields(m, f, t, ts...)
}
func (a *accumulator) AddMetric(m telegraf.Metric) {
	a.AddFields(m.Name(), m.Fields(), m.Tags(), m.Time())
}
func (a *accumulator) SetPrecision(time.Duration) {}
func (a *accumulator) AddError(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.errors = append(a.errors, err)
}
func (a *accumulator) WithTracking(int) telegraf.TrackingAccumulator {
	panic("certexpiry does not use tracking")
}

// measurement returns the rows of one measurement.
func (a *accumulator) measurement(name string) []row {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []row
	for _, r := range a.rows {
		if r.Measurement == name {
			out = append(out, r)
		}
	}
	return out
}

// String renders a row like line protocol with sorted keys, for readable diffs.
func (r row) String() string {
	var b strings.Builder
	b.WriteString(r.Measurement)
	keys := make([]string, 0, len(r.Tags))
	for k := range r.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, ",%s=%s", k, r.Tags[k])
	}
	keys = keys[:0]
	for k := range r.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		sep := ","
		if i == 0 {
			sep = " "
		}
		fmt.Fprintf(&b, "%s%s=%#v", sep, k, r.Fields[k])
	}
	return b.String()
}

func durationOf(seconds float64) time.Duration { return time.Duration(seconds * float64(time.Second)) }
