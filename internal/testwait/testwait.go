// Package testwait waits in tests for what happens asynchronously (informers applying
// events, processes starting), by polling, never by sleeping a fixed time.
package testwait

import (
	"testing"
	"time"
)

// Bound is how long Until waits before it fails the test. It only ends a test that would
// otherwise hang: no timing is asserted, so it is generous enough for a loaded CI machine.
const Bound = 60 * time.Second

// Until calls cond every interval until it returns true; if Bound passes first, it fails the
// test with "never happened: " and what.
func Until(t testing.TB, what string, every time.Duration, cond func() bool) {
	t.Helper()
	until(t, what, every, Bound, cond)
}

func until(t testing.TB, what string, every, bound time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(every)
	}
}
