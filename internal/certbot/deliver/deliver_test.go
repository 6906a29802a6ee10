package deliver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/spool"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/writer"
)

// server is an in-memory destination: it fails the calls listed in fail (1-based) with the
// given error and records accepted batches.
type server struct {
	calls    int
	fail     map[int]error
	accepted []string
}

func (s *server) Write(_ context.Context, b []byte) error {
	s.calls++
	if err := s.fail[s.calls]; err != nil {
		return err
	}
	s.accepted = append(s.accepted, string(b))
	return nil
}

func newSpool(t *testing.T, content string) (*spool.Spool, *spool.Tx) {
	t.Helper()
	sp := spool.New(filepath.Join(t.TempDir(), "spool.lp"))
	tx, err := sp.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Close() })
	if err := tx.Append([]byte(content)); err != nil {
		t.Fatal(err)
	}
	return sp, tx
}

func spooled(t *testing.T, sp *spool.Spool) string {
	t.Helper()
	b, err := os.ReadFile(sp.Path())
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func TestFlushAllInOrder(t *testing.T) {
	sp, tx := newSpool(t, "a 1\nb 2\nc 3\nd 4\ne 5\n")
	srv := &server{}
	res, err := Flush(context.Background(), tx, srv, 2)
	if err != nil || res != (Result{Delivered: 5}) {
		t.Fatalf("res %+v err %v", res, err)
	}
	if want := []string{"a 1\nb 2\n", "c 3\nd 4\n", "e 5\n"}; !reflect.DeepEqual(srv.accepted, want) {
		t.Errorf("batches %q want %q", srv.accepted, want)
	}
	if got := spooled(t, sp); got != "" {
		t.Errorf("spool left %q", got)
	}
}

func TestFlushStopsAtFailureKeepingOrder(t *testing.T) {
	sp, tx := newSpool(t, "a 1\nb 2\nc 3\nd 4\ne 5\n")
	down := &writer.TransportError{URL: "http://127.0.0.1:1/write", Err: errors.New("connection refused")}
	srv := &server{fail: map[int]error{2: down}}
	res, err := Flush(context.Background(), tx, srv, 2)
	if !errors.Is(err, down) || res != (Result{Delivered: 2, Remaining: 3}) {
		t.Fatalf("res %+v err %v", res, err)
	}
	if got := spooled(t, sp); got != "c 3\nd 4\ne 5\n" {
		t.Errorf("spool %q", got)
	}
	// The next run delivers the rest, oldest first.
	res, err = Flush(context.Background(), tx, srv, 2)
	if err != nil || res != (Result{Delivered: 3}) {
		t.Fatalf("second flush: %+v %v", res, err)
	}
	if want := []string{"a 1\nb 2\n", "c 3\nd 4\n", "e 5\n"}; !reflect.DeepEqual(srv.accepted, want) {
		t.Errorf("batches %q want %q", srv.accepted, want)
	}
}

func TestFlushRejectedMovesAside(t *testing.T) {
	sp, tx := newSpool(t, "bad\nb 2\nc 3\n")
	bad := &writer.StatusError{URL: "http://127.0.0.1:8086/write", Status: "400 Bad Request", Code: 400, Body: `{"error":"unable to parse 'bad': missing fields"}`}
	srv := &server{fail: map[int]error{1: bad}}
	res, err := Flush(context.Background(), tx, srv, 1)
	if res != (Result{Delivered: 2, Rejected: 1}) {
		t.Fatalf("res %+v", res)
	}
	want := `http://127.0.0.1:8086/write answered 400 Bad Request: {"error":"unable to parse 'bad': missing fields"}; 1 lines moved to ` + sp.Path() + ".rejected"
	if err == nil || err.Error() != want || !errors.Is(err, bad) {
		t.Fatalf("err %v\nwant %s", err, want)
	}
	if b, _ := os.ReadFile(sp.Path() + ".rejected"); string(b) != "bad\n" {
		t.Errorf("rejected %q", b)
	}
	if got := spooled(t, sp); got != "" {
		t.Errorf("spool %q", got)
	}
}

func TestFlushAuthErrorKeepsEverything(t *testing.T) {
	sp, tx := newSpool(t, "a 1\nb 2\n")
	denied := &writer.StatusError{URL: "u", Status: "401 Unauthorized", Code: 401, Body: `{"error":"authorization failed"}`}
	res, err := Flush(context.Background(), tx, &server{fail: map[int]error{1: denied}}, 10)
	if !errors.Is(err, denied) || res != (Result{Remaining: 2}) {
		t.Fatalf("res %+v err %v", res, err)
	}
	if got := spooled(t, sp); got != "a 1\nb 2\n" {
		t.Errorf("spool %q", got)
	}
}

// TestFlushCrashAfterAccept: the server took a batch but the spool could not be rewritten
// (the process "died" there). The next flush sends the batch again: a duplicate, never a loss.
func TestFlushCrashAfterAccept(t *testing.T) {
	dir := t.TempDir()
	sp := spool.New(filepath.Join(dir, "spool.lp"))
	tx, _ := sp.Lock(context.Background())
	if err := tx.Append([]byte("a 1\nb 2\n")); err != nil {
		t.Fatal(err)
	}
	// Make the rewrite impossible: a non-empty directory where the .tmp file must go.
	if err := os.MkdirAll(filepath.Join(sp.Path()+".tmp", "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	srv := &server{}
	res, err := Flush(context.Background(), tx, srv, 1)
	if err == nil || !strings.Contains(err.Error(), "spool.lp.tmp") || res != (Result{Remaining: 2}) {
		t.Fatalf("res %+v err %v", res, err)
	}
	tx.Close()
	if err := os.RemoveAll(sp.Path() + ".tmp"); err != nil {
		t.Fatal(err)
	}
	tx, _ = sp.Lock(context.Background())
	defer tx.Close()
	res, err = Flush(context.Background(), tx, srv, 1)
	if err != nil || res != (Result{Delivered: 2}) {
		t.Fatalf("res %+v err %v", res, err)
	}
	if want := []string{"a 1\n", "a 1\n", "b 2\n"}; !reflect.DeepEqual(srv.accepted, want) {
		t.Errorf("accepted %q want %q (one duplicate, nothing lost)", srv.accepted, want)
	}
}
