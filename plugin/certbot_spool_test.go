package plugin

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/agent"
	"github.com/influxdata/telegraf/plugins/common/shim"
	"github.com/influxdata/telegraf/plugins/serializers/influx"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/spool"
)

const spooled = `certbot_renewal,domain=all,host=web\ 1 renewed_count=2,not_before=1795330800i,not_after=1803106799i,lifetime=7775999i 1795335563914642600
certbot_renewal,domain=a.example,host=web\ 1 renewed_count=1,not_before=1795330800i,not_after=1803106799i,lifetime=7775999i 1795335563914642600
`

// shimStdout is the input's side of Telegraf's execd shim, built from the shim's own parts:
// its accumulator (agent.NewAccumulator with the shim as metric maker, nanosecond precision)
// feeding a one-slot channel, and a loop that does what the shim's writeProcessedMetrics does
// with each metric: serialize, write to stdout, then Accept — or Drop when the write failed.
type shimStdout struct {
	acc telegraf.Accumulator
	mu  sync.Mutex
	out bytes.Buffer
	// failWrites makes every write to "stdout" fail (a closed pipe).
	failWrites bool
	// hold, while not nil, keeps each metric unwritten until it is closed.
	hold chan struct{}
}

func newShimStdout(t *testing.T) *shimStdout {
	t.Helper()
	ch := make(chan telegraf.Metric, 1) // the shim's own buffer size
	s := &shimStdout{acc: agent.NewAccumulator(shim.New(), ch)}
	s.acc.SetPrecision(time.Nanosecond)
	ser := &influx.Serializer{}
	if err := ser.Init(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range ch {
			s.mu.Lock()
			hold, fail := s.hold, s.failWrites
			s.mu.Unlock()
			if hold != nil {
				<-hold
			}
			b, err := ser.Serialize(m)
			if err != nil {
				m.Reject()
				continue
			}
			if fail {
				m.Drop()
				continue
			}
			s.mu.Lock()
			s.out.Write(b)
			s.mu.Unlock()
			m.Accept()
		}
	}()
	t.Cleanup(func() { close(ch); <-done })
	return s
}

func (s *shimStdout) written() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

// TestGatherCertbotSpool: good lines are written to stdout and then removed; a line that is
// not a point and a last line cut short by a crash move to .rejected and are reported.
func TestGatherCertbotSpool(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certbot.lp")
	b := "certbot_renewal,domain=b.example,host=h renewed_count=1 1795335564000000000\n"
	if err := os.WriteFile(path, []byte(spooled+"garbage line\n"+b+"certbot_renewal,dom"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newShimStdout(t)
	err := gatherCertbotSpool(path, s.acc)
	want := "certbot_spool " + path + ": 2 lines are not valid points, moved to " + path + ".rejected:\n" +
		"line 3 \"garbage line\": column 13: want '=' after field key \"line\", found end of input\n" +
		"line 5 \"certbot_renewal,dom\": cut short (no newline at the end of the spool: a crash during an append)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
	if got := s.written(); got != spooled+b {
		t.Errorf("stdout\n%s\nwant\n%s", got, spooled+b)
	}
	if got := readFile(t, path); got != "" {
		t.Errorf("spool not emptied: %q", got)
	}
	if got := readFile(t, path+".rejected"); got != "garbage line\ncertbot_renewal,dom\n" {
		t.Errorf("rejected: %q", got)
	}

	// A later renewal: only the new line comes out.
	c := "certbot_renewal,domain=c.example,host=h renewed_count=1 1795335565000000000\n"
	if err := os.WriteFile(path, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := gatherCertbotSpool(path, s.acc); err != nil || s.written() != spooled+b+c {
		t.Fatalf("second gather: %v\n%s", err, s.written())
	}
}

// TestGatherCertbotSpoolKeepsUnwritten: lines are removed only after the shim wrote them to
// stdout. A failed write, or one not confirmed in time, leaves the spool as it was.
func TestGatherCertbotSpoolKeepsUnwritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certbot.lp")
	if err := os.WriteFile(path, []byte(spooled), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newShimStdout(t)
	s.failWrites = true
	err := gatherCertbotSpool(path, s.acc)
	if want := "certbot_spool " + path + ": 2 lines were not written to stdout; they stay in the spool"; err == nil || err.Error() != want {
		t.Fatalf("failed write: err = %v\nwant  %s", err, want)
	}
	if got := readFile(t, path); got != spooled {
		t.Fatalf("spool after a failed write: %q", got)
	}

	s.mu.Lock()
	s.failWrites, s.hold = false, make(chan struct{})
	hold := s.hold
	s.mu.Unlock()
	err = drainCertbotSpool(path, s.acc, 50*time.Millisecond)
	if want := "certbot_spool " + path + ": 2 lines were not written to stdout within 50ms; they stay in the spool"; err == nil || err.Error() != want {
		t.Fatalf("stalled stdout: err = %v\nwant  %s", err, want)
	}
	if got := readFile(t, path); got != spooled {
		t.Fatalf("spool after a stalled write: %q", got)
	}
	s.mu.Lock()
	s.hold = nil
	s.mu.Unlock()
	close(hold) // the stalled batch gets written after all
	if err := gatherCertbotSpool(path, s.acc); err != nil {
		t.Fatal(err)
	}
	// Written twice: once late, once again by the next gather (InfluxDB keeps one point).
	if got := s.written(); got != spooled+spooled {
		t.Errorf("stdout\n%s", got)
	}
	if got := readFile(t, path); got != "" {
		t.Errorf("spool not emptied: %q", got)
	}
}

func TestGatherCertbotSpoolMissingOrBusy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "certbot.lp")
	s := newShimStdout(t)
	if err := gatherCertbotSpool(path, s.acc); err != nil || s.written() != "" {
		t.Fatalf("missing spool: %v %q", err, s.written())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a missing spool must not create files: %v", entries)
	}

	if err := os.WriteFile(path, []byte(spooled), 0o600); err != nil {
		t.Fatal(err)
	}
	tx, err := spool.New(path).Lock(context.Background()) // the hook, delivering
	if err != nil {
		t.Fatal(err)
	}
	if err := gatherCertbotSpool(path, s.acc); err != nil || s.written() != "" {
		t.Fatalf("busy spool: %v %q", err, s.written())
	}
	tx.Close()
	if got := readFile(t, path); got != spooled {
		t.Errorf("busy spool changed: %q", got)
	}
	if err := gatherCertbotSpool(path, s.acc); err != nil || s.written() != spooled {
		t.Fatalf("after release: %v %q", err, s.written())
	}
}

// TestGatherCertbotSpoolRefusesSymlink: the input shares the spool directory's rules.
func TestGatherCertbotSpoolRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte(spooled), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "certbot.lp")
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	s := newShimStdout(t)
	err := gatherCertbotSpool(path, s.acc)
	if err == nil || !strings.HasPrefix(err.Error(), "certbot_spool "+path+": spool: refusing "+path+": it is a symbolic link;") || s.written() != "" {
		t.Fatalf("err = %v, stdout %q", err, s.written())
	}
	if got := readFile(t, victim); got != spooled {
		t.Errorf("victim changed: %q", got)
	}
}
