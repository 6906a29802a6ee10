package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// The Telegraf routines plugin/README.md documents, on a real telegraf: --test needs
// --test-wait to print an execd plugin's rows; tags and name_prefix go on the
// [[inputs.execd]] block; a SIGHUP to Telegraf restarts the plugin with its edited config.
func TestTelegrafRoutines(t *testing.T) {
	telegrafBin := testenv.Binary(t, "telegraf")
	pluginBin := buildPlugin(t)
	dir := t.TempDir()
	closed := testenv.FreePort(t)
	pluginConf := filepath.Join(dir, "plugin.conf")
	writePluginConf := func(domain string) {
		t.Helper()
		conf := fmt.Sprintf("[[inputs.certexpiry]]\n  domains = [%q]\n  timeout = \"1s\"\n  [[inputs.certexpiry.target]]\n    address = \"127.0.0.1\"\n    ports = [%d]\n", domain, closed)
		if err := os.WriteFile(pluginConf, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writePluginConf("a.test")
	out := filepath.Join(dir, "out.lp")
	telegrafConf := filepath.Join(dir, "telegraf.conf")
	conf := fmt.Sprintf(`[agent]
  interval = "1s"
  flush_interval = "1s"
  omit_hostname = true

[[inputs.execd]]
  command = [%q, "-config", %q, "-poll_interval_disabled"]
  signal = "STDIN"
  data_format = "influx"
  restart_delay = "1s"
  name_prefix = "tls_"
  [inputs.execd.tags]
    env = "prod"

[[outputs.file]]
  files = [%q]
`, pluginBin, pluginConf, out)
	if err := os.WriteFile(telegrafConf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	row := func(domain string) string {
		return fmt.Sprintf("tls_cert_expiry,address=127.0.0.1,domain=%s,env=prod,port=%d,source=static,status=unreachable", domain, closed)
	}

	// --test prints rows only with --test-wait.
	testRun := func(args ...string) string {
		cmd := exec.Command(telegrafBin, append([]string{"--config", telegrafConf}, args...)...)
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		if err := cmd.Run(); err != nil {
			t.Logf("telegraf %v: %v", args, err)
		}
		return stdout.String()
	}
	if got := testRun("--input-filter", "execd", "--test", "--test-wait", "5"); !strings.Contains(got, "> "+row("a.test")+" ") {
		t.Errorf("--test --test-wait 5 printed\n%s\nwant a line starting > %s", got, row("a.test"))
	}
	if got := testRun("--test"); strings.Contains(got, "cert_expiry") {
		t.Errorf("plain --test printed rows after all (update plugin/README.md):\n%s", got)
	}

	// A running telegraf; then the plugin config is edited and Telegraf gets a SIGHUP.
	p := testenv.Start(t, telegrafBin, "--config", telegrafConf)
	waitFor := func(what string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			b, _ := os.ReadFile(out)
			if strings.Contains(string(b), what) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %q in Telegraf's output within 30 s:\n%s", what, b)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitFor(row("a.test") + " ")
	writePluginConf("b.test")
	if err := p.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(row("b.test") + " ")
}
