package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// receiver is an in-memory destination. fail maps a call number (1-based) to its error;
// refuse lists lines it refuses as data whenever a batch holds them (as InfluxDB answers 400 to
// a batch with one point of the wrong field type).
type receiver struct {
	calls    int
	fail     map[int]error
	refuse   map[string]bool
	accepted []string
}

type refusal struct{ line string }

func (r *refusal) Error() string  { return fmt.Sprintf("400 Bad Request: bad point %q", r.line) }
func (r *refusal) Rejected() bool { return true }

func (r *receiver) send(_ context.Context, lines [][]byte) error {
	r.calls++
	if err := r.fail[r.calls]; err != nil {
		return err
	}
	for _, l := range lines {
		if r.refuse[string(l)] {
			return &refusal{string(l)}
		}
	}
	r.accepted = append(r.accepted, string(bytes.Join(lines, []byte{'\n'})))
	return nil
}

// pt is a valid point named n.
func pt(n string) string { return "m,k=" + n + " v=1i 1795335563914642600" }

func pts(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString(pt(n) + "\n")
	}
	return b.String()
}

func newSpool(t *testing.T, content string) (*Spool, *Tx) {
	t.Helper()
	sp := New(filepath.Join(t.TempDir(), "spool.lp"))
	if err := os.WriteFile(sp.Path(), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	tx, err := sp.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Close() })
	return sp, tx
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func TestDrainAllInOrder(t *testing.T) {
	sp, tx := newSpool(t, pts("a", "b", "c", "d", "e"))
	r := &receiver{}
	res, err := tx.Drain(context.Background(), 2, r.send)
	if err != nil || res != (Result{Delivered: 5}) {
		t.Fatalf("res %+v err %v", res, err)
	}
	if want := []string{pt("a") + "\n" + pt("b"), pt("c") + "\n" + pt("d"), pt("e")}; !reflect.DeepEqual(r.accepted, want) {
		t.Errorf("batches %q want %q", r.accepted, want)
	}
	if got := read(t, sp.Path()); got != "" {
		t.Errorf("spool left %q", got)
	}
}

func TestDrainStopsAtFailureKeepingOrder(t *testing.T) {
	sp, tx := newSpool(t, pts("a", "b", "c", "d", "e"))
	down := errors.New("connection refused")
	r := &receiver{fail: map[int]error{2: down}}
	res, err := tx.Drain(context.Background(), 2, r.send)
	if !errors.Is(err, down) || res != (Result{Delivered: 2, Remaining: 3}) {
		t.Fatalf("res %+v err %v", res, err)
	}
	if got := read(t, sp.Path()); got != pts("c", "d", "e") {
		t.Errorf("spool %q", got)
	}
	res, err = tx.Drain(context.Background(), 2, r.send)
	if err != nil || res != (Result{Delivered: 3}) {
		t.Fatalf("second drain: %+v %v", res, err)
	}
	if want := []string{pt("a") + "\n" + pt("b"), pt("c") + "\n" + pt("d"), pt("e")}; !reflect.DeepEqual(r.accepted, want) {
		t.Errorf("batches %q want %q", r.accepted, want)
	}
}

// TestDrainChecksLinesLocally: a torn line from a crash mid-append, a line that is not a
// point, a line without timestamp and a last line without its newline move to .rejected; the
// good lines, the newest renewal among them, are delivered in one request.
func TestDrainChecksLinesLocally(t *testing.T) {
	content := pts("a") + "m,k=torn v=1i 17953\x00\x00\n" + "garbage line\n" + "m,k=notime v=1i\n" + pts("b", "c") + "m,k=cut v="
	sp, tx := newSpool(t, content)
	r := &receiver{}
	res, err := tx.Drain(context.Background(), 10, r.send)
	if res != (Result{Delivered: 3, Rejected: 4}) {
		t.Fatalf("res %+v", res)
	}
	want := "4 lines are not valid points, moved to " + tx.RejectedPath() + ":\n" +
		"line 2 \"m,k=torn v=1i 17953\\x00\\x00\": column 15: invalid timestamp (\"17953\\x00\\x00\")\n" +
		"line 3 \"garbage line\": column 13: want '=' after field key \"line\", found end of input\n" +
		"line 4 \"m,k=notime v=1i\": no timestamp\n" +
		"line 7 \"m,k=cut v=\": cut short (no newline at the end of the spool: a crash during an append)"
	if err == nil || err.Error() != want {
		t.Fatalf("err:\n%v\nwant:\n%s", err, want)
	}
	if want := []string{pt("a") + "\n" + pt("b") + "\n" + pt("c")}; !reflect.DeepEqual(r.accepted, want) {
		t.Errorf("accepted %q want %q", r.accepted, want)
	}
	if got := read(t, tx.RejectedPath()); got != "m,k=torn v=1i 17953\x00\x00\ngarbage line\nm,k=notime v=1i\nm,k=cut v=\n" {
		t.Errorf("rejected %q", got)
	}
	if got := read(t, sp.Path()); got != "" {
		t.Errorf("spool %q", got)
	}
}

// TestDrainReceiverRefusesOneLine: the receiver refuses a batch for one point (InfluxDB: field
// type conflict). Only that point moves aside; the others are delivered.
func TestDrainReceiverRefusesOneLine(t *testing.T) {
	sp, tx := newSpool(t, pts("a", "b", "c", "d", "e"))
	r := &receiver{refuse: map[string]bool{pt("c"): true}}
	res, err := tx.Drain(context.Background(), 10, r.send)
	if res != (Result{Delivered: 4, Rejected: 1}) {
		t.Fatalf("res %+v", res)
	}
	want := `400 Bad Request: bad point "` + pt("c") + `"; 1 lines moved to ` + tx.RejectedPath()
	var rf *refusal
	if err == nil || err.Error() != want || !errors.As(err, &rf) {
		t.Fatalf("err %v\nwant %s", err, want)
	}
	if got := read(t, tx.RejectedPath()); got != pts("c") {
		t.Errorf("rejected %q", got)
	}
	if got := read(t, sp.Path()); got != "" {
		t.Errorf("spool %q", got)
	}
	// a..e refused; a,b ok; c,d,e refused; c refused; d,e ok.
	if want := []string{pt("a") + "\n" + pt("b"), pt("d") + "\n" + pt("e")}; !reflect.DeepEqual(r.accepted, want) || r.calls != 5 {
		t.Errorf("%d calls, accepted %q want %q", r.calls, r.accepted, want)
	}
}

// TestDrainOutageWhileSplitting: the receiver goes away while a refused batch is being split:
// everything of that batch stays (what it took already comes again: a duplicate, no loss).
func TestDrainOutageWhileSplitting(t *testing.T) {
	sp, tx := newSpool(t, pts("a", "b", "c", "d"))
	down := errors.New("connection refused")
	r := &receiver{refuse: map[string]bool{pt("d"): true}, fail: map[int]error{3: down}}
	res, err := tx.Drain(context.Background(), 10, r.send)
	if !errors.Is(err, down) || res != (Result{Remaining: 4}) {
		t.Fatalf("res %+v err %v", res, err)
	}
	if got := read(t, sp.Path()); got != pts("a", "b", "c", "d") {
		t.Errorf("spool %q", got)
	}
	if got := read(t, tx.RejectedPath()); got != "" {
		t.Errorf("rejected %q", got)
	}
}

func TestDrainCrashAfterAccept(t *testing.T) {
	sp, tx := newSpool(t, pts("a", "b"))
	crash := errors.New("killed")
	sp.rename = func(string, string) error { return crash }
	r := &receiver{}
	res, err := tx.Drain(context.Background(), 1, r.send)
	if !errors.Is(err, crash) || res != (Result{Remaining: 2}) {
		t.Fatalf("res %+v err %v", res, err)
	}
	sp.rename = os.Rename
	res, err = tx.Drain(context.Background(), 1, r.send)
	if err != nil || res != (Result{Delivered: 2}) {
		t.Fatalf("res %+v err %v", res, err)
	}
	if want := []string{pt("a"), pt("a"), pt("b")}; !reflect.DeepEqual(r.accepted, want) {
		t.Errorf("accepted %q want %q (one duplicate, nothing lost)", r.accepted, want)
	}
}

func TestDrainEmpty(t *testing.T) {
	sp := New(filepath.Join(t.TempDir(), "spool.lp"))
	tx, err := sp.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	r := &receiver{}
	if res, err := tx.Drain(context.Background(), 0, r.send); err != nil || res != (Result{}) || r.calls != 0 {
		t.Fatalf("%+v %v %d", res, err, r.calls)
	}
}

func TestCheckLine(t *testing.T) {
	for line, want := range map[string]string{
		pt("a"):                                "",
		`m,t=a\ b f="x y",g=1.5,h=true 1`:      "",
		"m v=1i":                               "no timestamp",
		"m v=1i 1 2":                           `column 10: unexpected text after timestamp ("2")`,
		"# comment":                            "no point",
		"m":                                    "column 2: empty tag name",
		"m v=1i 1795335563914642600\nm v=2i 1": "more than one point",
	} {
		err := CheckLine([]byte(line))
		if got := fmt.Sprint(err); (want == "" && err != nil) || (want != "" && got != want) {
			t.Errorf("%q: %v, want %q", line, err, want)
		}
	}
}
