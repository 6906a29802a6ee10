package spool

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// DefaultBatchSize is Drain's batch size when it is given none.
const DefaultBatchSize = 1000

// Sender hands a batch of spooled lines (each a valid point, without its newline, oldest
// first) to a receiver. nil means the receiver took every line. An error that has a
// Rejected() bool method answering true (writer.StatusError for HTTP 400/422) means the
// receiver refuses the data itself and always will; any other error means "not now".
type Sender func(ctx context.Context, lines [][]byte) error

// Result counts lines.
type Result struct {
	Delivered int // taken by the receiver and removed from the spool
	Rejected  int // moved to PATH.rejected: invalid, cut short, or refused as data
	Remaining int // still in the spool
}

// Drain delivers the spool through send, oldest first, batchSize lines at a time
// (DefaultBatchSize when ≤ 0), removing each batch only after send took it. It is the one
// delivery loop of the spool: the hook's HTTP writes and the Telegraf input's certbot_spool
// option both run it.
//
//   - Every line is checked locally first (CheckLine: line protocol with a timestamp), and a
//     last line without its newline was cut short by a crash. Such lines move to
//     PATH.rejected at once and the valid ones are sent: one bad line never holds back or
//     takes down the others.
//   - When the receiver refuses a batch as data, Drain halves it and sends the halves, down to
//     single lines, so only the lines the receiver refuses on their own move to PATH.rejected
//     (lines it took more than once are harmless duplicates).
//   - Any other failure stops the drain: that batch and everything after it stay, in order.
//
// The error joins every reason a line was rejected and the failure that stopped the drain.
func (t *Tx) Drain(ctx context.Context, batchSize int, send Sender) (Result, error) {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	lines, torn, err := t.read()
	if err != nil {
		return Result{}, err
	}
	var res Result
	var errs []error
	// Local check first: keep the good lines, move the bad ones aside in one rewrite.
	good := lines[:0:0]
	var bad [][]byte
	var reasons []error
	for i, l := range lines {
		if err := CheckLine(l); err != nil {
			bad = append(bad, l)
			reasons = append(reasons, fmt.Errorf("line %d %q: %w", i+1, l, err))
			continue
		}
		good = append(good, l)
	}
	if torn != nil {
		bad = append(bad, torn)
		reasons = append(reasons, fmt.Errorf("line %d %q: cut short (no newline at the end of the spool: a crash during an append)", len(lines)+1, torn))
	}
	if len(bad) > 0 {
		if err := t.Reject(bad); err != nil {
			return Result{Remaining: len(lines) + boolInt(torn != nil)}, errors.Join(append(reasons, err)...)
		}
		if err := t.replace(good); err != nil {
			// The bad lines are in PATH.rejected and still in the spool: the next drain
			// rejects them again (a duplicate in PATH.rejected, nothing lost).
			return Result{Remaining: len(lines) + boolInt(torn != nil)}, errors.Join(append(reasons, err)...)
		}
		res.Rejected += len(bad)
		errs = append(errs, fmt.Errorf("%d lines are not valid points, moved to %s:\n%w", len(bad), t.RejectedPath(), errors.Join(reasons...)))
	}

	for len(good) > 0 {
		n := min(batchSize, len(good))
		refused, why, stop := sendSplit(ctx, send, good[:n])
		if stop != nil {
			res.Remaining = len(good)
			return res, errors.Join(append(errs, stop)...)
		}
		if len(refused) > 0 {
			if err := t.Reject(refused); err != nil {
				res.Remaining = len(good)
				return res, errors.Join(append(errs, why, err)...)
			}
			errs = append(errs, fmt.Errorf("%w; %d lines moved to %s", why, len(refused), t.RejectedPath()))
		}
		if err := t.Remove(n); err != nil {
			// The batch was taken but is still spooled: it will be sent again (a harmless
			// duplicate); stop so that the spool and our counts stay in step.
			res.Remaining = len(good)
			return res, errors.Join(append(errs, err)...)
		}
		res.Rejected += len(refused)
		res.Delivered += n - len(refused)
		good = good[n:]
	}
	return res, errors.Join(errs...)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sendSplit sends lines; when the receiver refuses them as data it sends each half on its
// own, down to single lines. It returns the lines refused on their own, the first refusal,
// and the error that stopped it (a failure other than a refusal).
func sendSplit(ctx context.Context, send Sender, lines [][]byte) (refused [][]byte, why, stop error) {
	err := send(ctx, lines)
	if err == nil {
		return nil, nil, nil
	}
	if !rejected(err) {
		return nil, nil, err
	}
	if len(lines) == 1 {
		return lines, err, nil
	}
	h := len(lines) / 2
	r1, w1, stop := sendSplit(ctx, send, lines[:h])
	if stop != nil {
		return nil, nil, stop
	}
	r2, w2, stop := sendSplit(ctx, send, lines[h:])
	if stop != nil {
		return nil, nil, stop
	}
	if w1 == nil {
		w1 = w2
	}
	return append(r1, r2...), w1, nil
}

// rejected reports whether err says the receiver refuses the data itself.
func rejected(err error) bool {
	var r interface{ Rejected() bool }
	return errors.As(err, &r) && r.Rejected()
}

// CheckLine reports why line is not one complete point of line protocol with a timestamp:
// the form every line the hook spools has. A line without a timestamp is not the hook's (the
// receiver would stamp it with the time of delivery, not of the renewal).
func CheckLine(line []byte) error {
	err := checkLine(line)
	var de *lineprotocol.DecodeError
	if errors.As(err, &de) {
		return fmt.Errorf("column %d: %w", de.Column, de.Err) // the line is known; "line 1" would mislead
	}
	return err
}

func checkLine(line []byte) error {
	dec := lineprotocol.NewDecoderWithBytes(line)
	if !dec.Next() {
		return errors.New("no point")
	}
	if _, err := dec.Measurement(); err != nil {
		return err
	}
	for {
		k, _, err := dec.NextTag()
		if err != nil {
			return err
		}
		if k == nil {
			break
		}
	}
	for {
		k, _, err := dec.NextField()
		if err != nil {
			return err
		}
		if k == nil {
			break
		}
	}
	ts, err := dec.Time(lineprotocol.Nanosecond, time.Time{})
	if err != nil {
		return err
	}
	if ts.IsZero() {
		return errors.New("no timestamp")
	}
	if dec.Next() {
		return errors.New("more than one point")
	}
	return nil
}
