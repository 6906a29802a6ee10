package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func lines(t *testing.T, tx *Tx) []string {
	t.Helper()
	ls, err := tx.Lines()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		out = append(out, string(l))
	}
	return out
}

func TestAppendLinesRemove(t *testing.T) {
	s := New(filepath.Join(t.TempDir(), "sub", "spool.lp"))
	tx, err := s.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if got := lines(t, tx); got != nil {
		t.Fatalf("new spool: %q", got)
	}
	if _, err := tx.Append([]byte("a 1\nb 2\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Append([]byte("c 3")); err != nil { // newline added
		t.Fatal(err)
	}
	if got, want := lines(t, tx), []string{"a 1", "b 2", "c 3"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
	if err := tx.Remove(2); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(s.Path()); string(b) != "c 3\n" {
		t.Fatalf("after Remove(2): %q", b)
	}
	if err := tx.Remove(2); err == nil || err.Error() != "spool "+s.Path()+": removing 2 lines but only 1 are spooled" {
		t.Errorf("over-remove: %v", err)
	}
	if err := tx.Remove(1); err != nil {
		t.Fatal(err)
	}
	if got := lines(t, tx); got != nil {
		t.Fatalf("emptied: %q", got)
	}
}

// TestTornAppend: a power loss mid-append leaves a fragment without newline. The next append
// moves it to .rejected (it may look like a point with a truncated timestamp) and does not
// glue its own lines onto it.
func TestTornAppend(t *testing.T) {
	s := New(filepath.Join(t.TempDir(), "spool.lp"))
	if err := os.WriteFile(s.Path(), []byte("a 1\ncertbot_renewal,dom"), 0o600); err != nil {
		t.Fatal(err)
	}
	tx, _ := s.Lock(context.Background())
	defer tx.Close()
	torn, err := tx.Append([]byte("b 2\n"))
	if err != nil || string(torn) != "certbot_renewal,dom" {
		t.Fatalf("Append: torn %q, %v", torn, err)
	}
	if got, want := lines(t, tx), []string{"a 1", "b 2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
	if b, _ := os.ReadFile(tx.RejectedPath()); string(b) != "certbot_renewal,dom\n" {
		t.Errorf("rejected %q", b)
	}
	if torn, err := tx.Append([]byte("c 3\n")); torn != nil || err != nil {
		t.Errorf("clean append: %q %v", torn, err)
	}
}

// TestCrashBeforeRename: the batch was delivered but the process died before the spool was
// replaced. Nothing is lost; the delivered lines come back (to be sent again), and a stale
// .tmp from the crash does not disturb the next removal.
func TestCrashBeforeRename(t *testing.T) {
	s := New(filepath.Join(t.TempDir(), "spool.lp"))
	tx, _ := s.Lock(context.Background())
	if _, err := tx.Append([]byte("a 1\nb 2\nc 3\n")); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("killed")
	s.rename = func(string, string) error { return crash }
	if err := tx.Remove(1); !errors.Is(err, crash) {
		t.Fatalf("Remove: %v", err)
	}
	tx.Close()
	if tmps, _ := filepath.Glob(s.Path() + ".tmp-*"); len(tmps) != 1 {
		t.Fatalf("the crash should leave one .tmp-*: %q", tmps)
	}

	s2 := New(s.Path()) // the next run
	tx2, _ := s2.Lock(context.Background())
	defer tx2.Close()
	if got, want := lines(t, tx2), []string{"a 1", "b 2", "c 3"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after crash: got %q want %q", got, want)
	}
	if err := tx2.Remove(1); err != nil {
		t.Fatal(err)
	}
	if got, want := lines(t, tx2), []string{"b 2", "c 3"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after recovery: got %q want %q", got, want)
	}
	if tmps, _ := filepath.Glob(s.Path() + ".tmp*"); len(tmps) != 0 {
		t.Errorf("stale temporary files stay: %q", tmps)
	}
}

func TestLocking(t *testing.T) {
	s := New(filepath.Join(t.TempDir(), "spool.lp"))
	tx, err := s.TryLock()
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to the open file, so a second open in this process contends like
	// another process would.
	if _, err := New(s.Path()).TryLock(); !errors.Is(err, ErrBusy) {
		t.Fatalf("second TryLock: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancel()
	if _, err := New(s.Path()).Lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while held: %v", err)
	}
	tx.Close()
	tx2, err := New(s.Path()).TryLock()
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	tx2.Close()
}

func TestReject(t *testing.T) {
	s := New(filepath.Join(t.TempDir(), "spool.lp"))
	tx, _ := s.Lock(context.Background())
	defer tx.Close()
	if err := tx.Reject([][]byte{[]byte("bad line"), []byte("x y=")}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(tx.RejectedPath()); string(b) != "bad line\nx y=\n" || tx.RejectedPath() != s.Path()+".rejected" {
		t.Fatalf("rejected file %s: %q", tx.RejectedPath(), b)
	}
}

// TestRemoveReplacesForeignTmp: a stale read-only temporary file (as left by the other user
// sharing the spool) does not block removal, and is cleaned up.
func TestRemoveReplacesForeignTmp(t *testing.T) {
	s := New(filepath.Join(t.TempDir(), "spool.lp"))
	tx, _ := s.Lock(context.Background())
	defer tx.Close()
	if _, err := tx.Append([]byte("a 1\nb 2\n")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".tmp", ".tmp-123"} {
		if err := os.WriteFile(s.Path()+name, []byte("stale"), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Remove(1); err != nil {
		t.Fatal(err)
	}
	if got, want := lines(t, tx), []string{"b 2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
	fi, err := os.Stat(s.Path())
	if err != nil || fi.Mode().Perm() != FileMode {
		t.Errorf("rewritten spool: %v, mode %v", err, fi.Mode())
	}
	if tmps, _ := filepath.Glob(s.Path() + ".tmp*"); len(tmps) != 0 {
		t.Errorf("stale temporary files stay: %q", tmps)
	}
}
