package e2e

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/demo"
)

// Run as execd with signal = "none", the plugin gathers on its own timer and streams line
// protocol on stdout, one row per backend each time; closing stdin stops it cleanly.
func TestPollIntervalGathersOnItsOwn(t *testing.T) {
	pluginBin := buildPlugin(t)
	scene, err := demo.Start(t.TempDir(), pluginBin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer scene.Close()
	cmd := exec.Command(pluginBin, "-config", scene.PluginConfig, "-poll_interval", "1s") // the shortest interval the binary accepts
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	want := 2 * len(scene.Backends) // two gathers
	var got []string
	for len(got) < want && lines.Scan() {
		got = append(got, lines.Text())
	}
	stdin.Close() // the shim stops when its stdin closes
	_, _ = io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("plugin exited with %v\n%s", err, stderr.String())
	}
	if len(got) != want {
		t.Fatalf("%d lines, want %d\n%s", len(got), want, stderr.String())
	}
	statuses := map[string]int{}
	for _, l := range got {
		if !strings.HasPrefix(l, "cert_expiry,") {
			t.Fatalf("not a cert_expiry row: %q", l)
		}
		for _, b := range scene.Backends {
			if strings.Contains(l, "address="+b.Address+",") && strings.Contains(l, "status="+b.WantStatus+" ") {
				statuses[b.Address]++
			}
		}
	}
	for _, b := range scene.Backends {
		if statuses[b.Address] != 2 {
			t.Errorf("%s (%s): %d rows with status %s, want 2", b.Address, b.Name, statuses[b.Address], b.WantStatus)
		}
	}
	// The one log line is the start-up summary, at info level through the shim.
	n := len(scene.Backends)
	if want := fmt.Sprintf("I! will probe %d static targets (1 domain, %d probes)\n", n, n); stderr.String() != want {
		t.Errorf("log lines:\n%s\nwant:\n%s", stderr.String(), want)
	}
}
