// Package e2e runs the real telegraf binary with our plugin under [[inputs.execd]] and checks
// what Telegraf itself writes.
package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/parsers/influx"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/demo"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// buildPlugin compiles telegraf-certexpiry into a temp dir: the binary under test is always
// the working tree's.
func buildPlugin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "telegraf-certexpiry")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/telegraf-certexpiry")
	cmd.Dir = testenv.RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runTelegrafOnce runs one collection and flush. `--once` alone would flush before an execd
// plugin answers; --test-wait keeps Telegraf waiting for service inputs.
func runTelegrafOnce(t *testing.T, telegrafBin, config string) string {
	t.Helper()
	cmd := exec.Command(telegrafBin, "--config", config, "--once", "--test-wait", "5")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Logf("telegraf exited: %v", err)
	}
	return out.String()
}

func parseLines(t *testing.T, data []byte) []telegraf.Metric {
	t.Helper()
	p := &influx.Parser{}
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	metrics, err := p.Parse(data)
	if err != nil {
		t.Fatalf("parsing Telegraf's output: %v\n%s", err, data)
	}
	return metrics
}

func TestTelegrafRunsPluginThroughExecd(t *testing.T) {
	telegrafBin := testenv.Binary(t, "telegraf")
	pluginBin := buildPlugin(t)
	scene, err := demo.Start(t.TempDir(), pluginBin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer scene.Close()

	before := time.Now()
	log := runTelegrafOnce(t, telegrafBin, scene.TelegrafConfig)
	after := time.Now()
	data, err := os.ReadFile(scene.OutputFile)
	if err != nil {
		t.Fatalf("telegraf wrote no output: %v\n%s", err, log)
	}
	metrics := parseLines(t, data)
	if len(metrics) != len(scene.Backends) {
		t.Fatalf("telegraf wrote %d metrics, want one per backend (%d):\n%s\n--- telegraf log ---\n%s", len(metrics), len(scene.Backends), data, log)
	}
	byAddress := map[string]telegraf.Metric{}
	for _, m := range metrics {
		if m.Name() != "cert_expiry" {
			t.Fatalf("unexpected measurement %q", m.Name())
		}
		byAddress[m.Tags()["address"]] = m
	}
	for _, b := range scene.Backends {
		m, ok := byAddress[b.Address]
		if !ok {
			t.Errorf("%s (%s): no row", b.Name, b.Address)
			continue
		}
		wantTags := map[string]string{"source": "static", "address": b.Address, "port": strconv.Itoa(b.Port), "domain": demo.Domain, "status": b.WantStatus}
		if got := m.Tags(); !equalMaps(got, wantTags) {
			t.Errorf("%s: tags %v, want %v", b.Name, got, wantTags)
		}
		fields := m.Fields()
		wantCode := map[string]int64{"valid": 0, "expired": 1, "not_found": 3, "unreachable": 4}[b.WantStatus]
		if fields["status_code"] != wantCode {
			t.Errorf("%s: status_code %#v, want %d", b.Name, fields["status_code"], wantCode)
		}
		if b.NotAfter.IsZero() {
			if e, _ := fields["error"].(string); !strings.Contains(e, "connection refused") {
				t.Errorf("%s: error field %q, want a refused connection", b.Name, e)
			}
			if _, has := fields["expiry"]; has {
				t.Errorf("%s: an unreachable target must not report expiry", b.Name)
			}
			continue
		}
		if fields["not_after"] != b.NotAfter.Unix() {
			t.Errorf("%s: not_after %#v, want %d", b.Name, fields["not_after"], b.NotAfter.Unix())
		}
		// expiry is measured at gather time, somewhere while Telegraf ran.
		hi, lo := int64(b.NotAfter.Sub(before)/time.Second)+1, int64(b.NotAfter.Sub(after)/time.Second)-1
		if got, _ := fields["expiry"].(int64); got < lo || got > hi {
			t.Errorf("%s: expiry %d s, want within [%d, %d]", b.Name, got, lo, hi)
		}
		if fields["verified"] != (b.WantStatus == "valid") {
			t.Errorf("%s: verified %v", b.Name, fields["verified"])
		}
	}
}

// A plugin config mistake must stop our process with a message Telegraf logs at error level.
func TestTelegrafLogsPluginConfigErrorAtErrorLevel(t *testing.T) {
	telegrafBin := testenv.Binary(t, "telegraf")
	pluginBin := buildPlugin(t)
	dir := t.TempDir()
	pluginConf := filepath.Join(dir, "plugin.conf")
	os.WriteFile(pluginConf, []byte("[[inputs.certexpiry]]\ndomains = [\"a.test\"]\ntimout = \"1s\"\n[[inputs.certexpiry.target]]\naddress = \"127.0.0.1\"\n"), 0o644)
	telegrafConf := filepath.Join(dir, "telegraf.conf")
	os.WriteFile(telegrafConf, []byte(`[agent]
  omit_hostname = true
[[inputs.execd]]
  command = ["`+pluginBin+`", "-config", "`+pluginConf+`", "-poll_interval_disabled"]
  signal = "STDIN"
  restart_delay = "1s"
[[outputs.file]]
  files = ["`+filepath.Join(dir, "out")+`"]
`), 0o644)
	log := runTelegrafOnce(t, telegrafBin, telegrafConf)
	want := "E! [inputs.execd] Err loading input: " + pluginConf + ": unknown option inputs.certexpiry.timout (did you mean timeout?)"
	if !strings.Contains(log, want) {
		t.Fatalf("telegraf log lacks\n%s\n--- log ---\n%s", want, log)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
