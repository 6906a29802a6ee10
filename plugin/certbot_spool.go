package plugin

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/parsers/influx"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/spool"
)

// certbotSpoolWriteTimeout bounds how long a gather waits for a batch of spooled renewals to
// be written to stdout. A batch not confirmed by then stays in the spool and is emitted again
// by a later gather (a duplicate, which InfluxDB overwrites); the gather goes on.
const certbotSpoolWriteTimeout = 30 * time.Second

// gatherCertbotSpool delivers the certbot hook's spool (certbot_spool option) through acc,
// with the spool's own Drain: lines are checked, bad ones move to PATH.rejected (reported as
// an error), good ones are emitted in batches, and a batch is removed from the spool only
// after it was written.
//
// "Written" means what it can mean for an input run by Telegraf's execd shim: the shim calls
// a metric's Accept only after its line protocol was written to stdout without error, i.e.
// handed to Telegraf's execd over the pipe, and Drop when that write failed. Each spooled
// metric carries its batch's acknowledgement; a batch is written when every one of its metrics
// was accepted. (Telegraf's tracking metrics are not used: they count a dropped metric as
// delivered.)
// From there Telegraf's own buffer and outputs hold it, as they hold every metric; a Telegraf
// crash before its outputs flush loses what it buffered (set url in the hook's settings to
// write straight to InfluxDB when that matters). A batch the shim drops (a failed write) or
// does not confirm within certbotSpoolWriteTimeout stays spooled. (If stdout stalls entirely,
// the shim's one-slot metric channel blocks the gather itself, as it does for every metric an
// input emits; nothing is removed meanwhile.)
//
// A missing spool file is an empty spool. When the hook holds the lock (it is delivering over
// HTTP right now) this gather emits nothing and the next one tries again.
func gatherCertbotSpool(path string, acc telegraf.Accumulator) error {
	return drainCertbotSpool(path, acc, certbotSpoolWriteTimeout)
}

func drainCertbotSpool(path string, acc telegraf.Accumulator, timeout time.Duration) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil // creating the directory and lock is the hook's business
	}
	tx, err := spool.New(path).TryLock()
	if errors.Is(err, spool.ErrBusy) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("certbot_spool: %w", err)
	}
	defer tx.Close()
	parser := &influx.Parser{}
	if err := parser.Init(); err != nil {
		return fmt.Errorf("certbot_spool: %w", err)
	}
	_, err = tx.Drain(context.Background(), spool.DefaultBatchSize, func(_ context.Context, lines [][]byte) error {
		metrics := make([]telegraf.Metric, 0, len(lines))
		for _, l := range lines {
			m, err := parser.ParseLine(string(l))
			if err != nil {
				return &unparsableError{line: l, err: err}
			}
			metrics = append(metrics, m)
		}
		ack := newBatchAck(len(metrics))
		for _, m := range metrics {
			acc.AddMetric(&ackedMetric{Metric: m, ack: ack})
		}
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		select {
		case written := <-ack.done:
			if !written {
				return fmt.Errorf("%d lines were not written to stdout; they stay in the spool", len(lines))
			}
			return nil
		case <-timer.C:
			return fmt.Errorf("%d lines were not written to stdout within %s; they stay in the spool", len(lines), timeout)
		}
	})
	if err != nil {
		return fmt.Errorf("certbot_spool %s: %w", path, err)
	}
	return nil
}

// unparsableError is a line Telegraf's parser refuses although the spool's check passed it:
// refused as data, so Drain moves it to PATH.rejected rather than retrying it forever.
type unparsableError struct {
	line []byte
	err  error
}

func (e *unparsableError) Error() string  { return fmt.Sprintf("line %q: %v", e.line, e.err) }
func (e *unparsableError) Unwrap() error  { return e.err }
func (e *unparsableError) Rejected() bool { return true }

// batchAck collects the shim's verdicts on one batch's metrics.
type batchAck struct {
	pending atomic.Int32
	failed  atomic.Bool
	done    chan bool // receives true once every metric was accepted, false if any was not
}

func newBatchAck(n int) *batchAck {
	a := &batchAck{done: make(chan bool, 1)} // a verdict after the wait gave up must not block
	a.pending.Store(int32(n))
	return a
}

func (a *batchAck) settle(written bool) {
	if !written {
		a.failed.Store(true)
	}
	if a.pending.Add(-1) == 0 {
		a.done <- !a.failed.Load()
	}
}

// ackedMetric is a spooled metric that reports the shim's verdict to its batch.
type ackedMetric struct {
	telegraf.Metric
	ack  *batchAck
	once sync.Once
}

// Accept is called by the shim after the metric was written to stdout.
func (m *ackedMetric) Accept() { m.once.Do(func() { m.ack.settle(true) }) }

// Reject is called when the metric could not be serialized.
func (m *ackedMetric) Reject() { m.once.Do(func() { m.ack.settle(false) }) }

// Drop is called by the shim when writing to stdout failed.
func (m *ackedMetric) Drop() { m.once.Do(func() { m.ack.settle(false) }) }
