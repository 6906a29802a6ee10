package probe

import (
	"context"
	"errors"
	"net"
	"os"
)

// Error is the failure of one probe step; its message names the step and the address, e.g.
// `dial 127.0.0.1:443: connect: connection refused`.
type Error struct {
	Step    string // "dial" or "handshake"
	Address string // host:port that was dialled
	Err     error
}

func (e *Error) Error() string { return e.Step + " " + e.Address + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ErrBudgetExceeded is the cause of a timeout row for a probe that never started because the
// gather budget ran out first.
var ErrBudgetExceeded = errors.New("gather budget exhausted before the probe started")

// isTimeout reports whether err is a deadline expiry, from a net deadline or a context.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
