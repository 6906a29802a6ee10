package testenv

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Process is a server started for a test. Its output goes to a log file in the test's temp
// dir, printed when the test fails so that a broken start-up explains itself.
type Process struct {
	Cmd     *exec.Cmd
	LogPath string
	done    chan struct{}
}

// Start runs name with args, logging to a file, and stops it (SIGTERM, then SIGKILL after 5 s)
// when the test ends.
func Start(t testing.TB, name string, args ...string) *Process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), filepath.Base(name)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("testenv: starting %s: %v", name, err)
	}
	p := &Process{Cmd: cmd, LogPath: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(p.done) }()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("--- %s log ---\n%s", filepath.Base(name), tail(b, 8000))
			}
		}
	})
	return p
}

// Stop ends the process and waits for it. Safe to call more than once.
func (p *Process) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitHTTP polls url until it answers with want, the process exits, or timeout passes.
func WaitHTTP(t testing.TB, p *Process, url string, want int, timeout time.Duration) {
	t.Helper()
	if err := waitHTTP(p, url, want, timeout, nil); err != nil {
		t.Fatal(err)
	}
}

func waitHTTP(p *Process, url string, want int, timeout time.Duration, client *http.Client) error {
	if client == nil {
		client = &http.Client{Timeout: time.Second}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last string
	for ctx.Err() == nil {
		if p != nil && p.Exited() {
			return fmt.Errorf("testenv: %s exited before %s answered %d", p.Cmd.Path, url, want)
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("testenv: %s did not answer %d within %s (last: %s)", url, want, timeout, last)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
