// Package deliver sends a spool's lines to a writer, oldest first, in batches, removing each
// batch from the spool only after the server accepted it.
package deliver

import (
	"context"
	"errors"
	"fmt"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/spool"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/writer"
)

// Result counts lines.
type Result struct {
	Delivered int // accepted by the server and removed from the spool
	Rejected  int // refused as data (400/422), moved to the .rejected file
	Remaining int // still in the spool
}

// Flush delivers every line in the locked spool tx through w, batchSize lines per request
// (1000 when ≤ 0), and stops at the first batch that fails. Lines the server refuses as data
// (HTTP 400 or 422: unparsable, field type conflict) would block every later renewal, so they
// move to the spool's .rejected file and the error is still returned; any other failure leaves
// the batch and everything after it in the spool, in order.
func Flush(ctx context.Context, tx *spool.Tx, w writer.Writer, batchSize int) (Result, error) {
	if batchSize <= 0 {
		batchSize = 1000
	}
	lines, err := tx.Lines()
	if err != nil {
		return Result{}, err
	}
	var res Result
	var errs []error
	for len(lines) > 0 {
		n := min(batchSize, len(lines))
		batch := lines[:n]
		werr := w.Write(ctx, join(batch))
		var se *writer.StatusError
		rejected := false
		switch {
		case werr == nil:
		case errors.As(werr, &se) && se.Rejected():
			if err := tx.Reject(batch); err != nil {
				res.Remaining = len(lines)
				return res, errors.Join(werr, err)
			}
			rejected = true
			errs = append(errs, fmt.Errorf("%w; %d lines moved to %s", werr, n, tx.RejectedPath()))
		default:
			res.Remaining = len(lines)
			return res, errors.Join(append(errs, werr)...)
		}
		if err := tx.Remove(n); err != nil {
			// The batch was taken but is still spooled: it will be sent again (a harmless
			// duplicate); stop so that the spool and our counts stay in step.
			res.Remaining = len(lines)
			return res, errors.Join(append(errs, err)...)
		}
		if rejected {
			res.Rejected += n
		} else {
			res.Delivered += n
		}
		lines = lines[n:]
	}
	return res, errors.Join(errs...)
}

func join(lines [][]byte) []byte {
	var b []byte
	for _, l := range lines {
		b = append(append(b, l...), '\n')
	}
	return b
}
