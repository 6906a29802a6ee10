// Package metrictest records what a Telegraf input emits: for tests, and for the check command,
// which runs the plugin once and prints its rows. It is deliberately small: Telegraf's own
// testutil pulls testcontainers and Docker's client into every build that imports it.
package metrictest

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/influxdata/telegraf"
)

// Row is one metric as the plugin handed it to Telegraf.
type Row struct {
	Measurement string
	Tags        map[string]string
	Fields      map[string]any
	// Time is the timestamp the plugin gave; zero when it gave none.
	Time time.Time
}

// String renders a row like line protocol with sorted keys and Go-syntax values, for readable
// test failures.
func (r Row) String() string {
	var b strings.Builder
	b.WriteString(r.Measurement)
	for _, k := range sortedKeys(r.Tags) {
		fmt.Fprintf(&b, ",%s=%s", k, r.Tags[k])
	}
	for i, k := range sortedKeys(r.Fields) {
		sep := ","
		if i == 0 {
			sep = " "
		}
		fmt.Fprintf(&b, "%s%s=%#v", sep, k, r.Fields[k])
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Accumulator is a telegraf.Accumulator that records rows and errors. Safe for concurrent use.
type Accumulator struct {
	mu     sync.Mutex
	rows   []Row
	errors []error
}

var _ telegraf.Accumulator = (*Accumulator)(nil)

// AddFields records a row; the other Add* methods do the same.
func (a *Accumulator) AddFields(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	r := Row{Measurement: m, Tags: t, Fields: f}
	if len(ts) > 0 {
		r.Time = ts[0]
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rows = append(a.rows, r)
}

// AddGauge records a row.
func (a *Accumulator) AddGauge(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	a.AddFields(m, f, t, ts...)
}

// AddCounter records a row.
func (a *Accumulator) AddCounter(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	a.AddFields(m, f, t, ts...)
}

// AddSummary records a row.
func (a *Accumulator) AddSummary(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	a.AddFields(m, f, t, ts...)
}

// AddHistogram records a row.
func (a *Accumulator) AddHistogram(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	a.AddFields(m, f, t, ts...)
}

// AddMetric records the metric as a row, with its own timestamp.
func (a *Accumulator) AddMetric(m telegraf.Metric) {
	a.AddFields(m.Name(), m.Fields(), m.Tags(), m.Time())
}

// SetPrecision does nothing: rows keep the timestamps they were given.
func (a *Accumulator) SetPrecision(time.Duration) {}

// AddError records an error.
func (a *Accumulator) AddError(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.errors = append(a.errors, err)
}

// WithTracking is not supported: certexpiry does not use tracking.
func (a *Accumulator) WithTracking(int) telegraf.TrackingAccumulator {
	panic("metrictest: tracking is not supported")
}

// Rows returns every recorded row, in order.
func (a *Accumulator) Rows() []Row {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Row(nil), a.rows...)
}

// Measurement returns the rows of one measurement, in order.
func (a *Accumulator) Measurement(name string) []Row {
	var out []Row
	for _, r := range a.Rows() {
		if r.Measurement == name {
			out = append(out, r)
		}
	}
	return out
}

// Errors returns the recorded errors, in order.
func (a *Accumulator) Errors() []error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]error(nil), a.errors...)
}

// TagLine renders tags as "k1=v1,k2=v2" with sorted keys.
func TagLine(tags map[string]string) string {
	parts := make([]string, 0, len(tags))
	for _, k := range sortedKeys(tags) {
		parts = append(parts, k+"="+tags[k])
	}
	return strings.Join(parts, ",")
}

// ParseLineProtocol decodes line protocol (nanosecond timestamps) into rows; field values are
// int64, uint64, float64, string or bool, as written.
func ParseLineProtocol(b []byte) ([]Row, error) {
	dec := lineprotocol.NewDecoderWithBytes(b)
	var out []Row
	for dec.Next() {
		m, err := dec.Measurement()
		if err != nil {
			return nil, err
		}
		r := Row{Measurement: string(m), Tags: map[string]string{}, Fields: map[string]any{}}
		for {
			k, v, err := dec.NextTag()
			if err != nil {
				return nil, err
			}
			if k == nil {
				break
			}
			r.Tags[string(k)] = string(v)
		}
		for {
			k, v, err := dec.NextField()
			if err != nil {
				return nil, err
			}
			if k == nil {
				break
			}
			r.Fields[string(k)] = v.Interface()
		}
		if r.Time, err = dec.Time(lineprotocol.Nanosecond, time.Time{}); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
