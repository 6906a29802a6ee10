package writer

import (
	"context"
	"fmt"
	"time"
)

// MaxBackoff caps the wait between attempts.
const MaxBackoff = 30 * time.Second

// Retry wraps a Writer: after a retryable failure (5xx, no answer) it waits Backoff, then
// twice that, and so on (capped at MaxBackoff), for at most Retries more attempts. A 4xx ends
// it at once. Sleep is injected so that tests do not wait; it must return ctx.Err() when ctx
// ends first.
type Retry struct {
	W       Writer
	Retries int
	Backoff time.Duration
	Sleep   func(ctx context.Context, d time.Duration) error
	// Log, when set, is told about each failed attempt that will be retried.
	Log func(msg string)
}

// Write tries w.W until it succeeds, fails for good, or runs out of attempts; the error is
// the last attempt's, wrapped with the number of attempts.
func (r *Retry) Write(ctx context.Context, lines []byte) error {
	delay := r.Backoff
	for attempt := 1; ; attempt++ {
		err := r.W.Write(ctx, lines)
		if err == nil {
			return nil
		}
		if !Retryable(err) {
			return err
		}
		if attempt > r.Retries {
			if attempt == 1 {
				return err
			}
			return fmt.Errorf("%d attempts failed, last: %w", attempt, err)
		}
		if r.Log != nil {
			r.Log(fmt.Sprintf("attempt %d failed, retrying in %s: %v", attempt, delay, err))
		}
		if serr := r.Sleep(ctx, delay); serr != nil {
			return fmt.Errorf("%w (gave up after %d attempts: %w)", err, attempt, serr)
		}
		delay = min(2*delay, MaxBackoff)
	}
}

// Sleep waits d or until ctx ends: the real clock, for Retry.Sleep.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
