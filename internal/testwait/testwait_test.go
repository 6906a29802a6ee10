package testwait

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func TestUntilReturnsOnceCondHolds(t *testing.T) {
	calls := 0
	Until(t, "third call", time.Millisecond, func() bool { calls++; return calls == 3 })
	if calls != 3 {
		t.Errorf("cond called %d times, want 3", calls)
	}
}

// recorder is a testing.TB that records Fatalf instead of ending the test.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = format
	if len(args) > 0 {
		r.failed = strings.Replace(format, "%s", args[0].(string), 1)
	}
	panic(r)
}

func TestUntilFailsNamingWhatNeverHappened(t *testing.T) {
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != r {
				panic(p)
			}
		}()
		until(r, "the pod to appear", time.Millisecond, 20*time.Millisecond, func() bool { return false })
	}()
	if r.failed != "never happened: the pod to appear" {
		t.Errorf("failed with %q", r.failed)
	}
}
