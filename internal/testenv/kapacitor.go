package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Kapacitor is a real kapacitord 1.5.9 started for one test, on a loopback port, with its
// state in the test's temp dir, querying one InfluxDB. Tasks are defined with the real
// kapacitor CLI, as a user would.
type Kapacitor struct {
	URL     string // http://127.0.0.1:PORT
	Process *Process
	cli     string
}

// StartKapacitor starts kapacitord (built by test/tools/build.sh) against influxURL. It
// polls InfluxDB for batch queries only: subscriptions are off, so no stream data reaches it.
func StartKapacitor(t testing.TB, influxURL string) *Kapacitor {
	t.Helper()
	bin := Binary(t, "kapacitord")
	dir := t.TempDir()
	addr := FreeAddr(t)
	cfg := fmt.Sprintf(`hostname = "127.0.0.1"
data_dir = %[1]q
skip-config-overrides = true
[http]
  bind-address = %[2]q
  log-enabled = false
[replay]
  dir = %[3]q
[storage]
  boltdb = %[4]q
[task]
  dir = %[5]q
[load]
  enabled = false
[[influxdb]]
  enabled = true
  default = true
  name = "default"
  urls = [%[6]q]
  disable-subscriptions = true
  startup-timeout = "1m"
[logging]
  file = "STDERR"
  level = "INFO"
[reporting]
  enabled = false
[stats]
  enabled = false
`, dir, addr, filepath.Join(dir, "replay"), filepath.Join(dir, "kapacitor.db"), filepath.Join(dir, "tasks"), influxURL)
	cfgPath := filepath.Join(dir, "kapacitor.conf")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	k := &Kapacitor{URL: "http://" + addr, cli: KapacitorCLI(t)}
	k.Process = Start(t, bin, "-config", cfgPath)
	WaitHTTP(t, k.Process, k.URL+"/kapacitor/v1/ping", 204, 60*time.Second)
	return k
}

// CLI runs the kapacitor CLI against this server and returns its combined output; a non-zero
// exit fails the test with that output.
func (k *Kapacitor) CLI(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(k.cli, append([]string{"-url", k.URL}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("kapacitor %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// KapacitorVar is one entry of a `kapacitor define -vars` file.
type KapacitorVar struct {
	Type  string `json:"type"` // int, float, string, duration, bool, ...
	Value any    `json:"value"`
}

// DefineBatch defines a batch task from tickPath with `kapacitor define ID -type batch -tick
// FILE -dbrp DBRP [-vars FILE]` and enables it.
func (k *Kapacitor) DefineBatch(t testing.TB, id, tickPath, dbrp string, vars map[string]KapacitorVar) {
	t.Helper()
	args := []string{"define", id, "-type", "batch", "-tick", tickPath, "-dbrp", dbrp}
	if len(vars) > 0 {
		b, err := json.Marshal(vars)
		if err != nil {
			t.Fatal(err)
		}
		varsPath := filepath.Join(t.TempDir(), id+"-vars.json")
		if err := os.WriteFile(varsPath, b, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-vars", varsPath)
	}
	k.CLI(t, args...)
	k.CLI(t, "enable", id)
}
