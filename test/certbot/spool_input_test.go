package certbot

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// TestTelegrafDeliversSpool: on a host where Telegraf runs, the hook only spools (no url) and
// the certexpiry input's certbot_spool option hands the lines to a real Telegraf, through
// [[inputs.execd]], which writes them to its output. The spool is empty afterwards.
func TestTelegrafDeliversSpool(t *testing.T) {
	telegraf := testenv.Binary(t, "telegraf")
	dir := t.TempDir()
	sp := filepath.Join(dir, "spool", "certbot.lp")
	nb := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	c := writeLineage(t, dir, nb, nb.Add(45*24*time.Hour), domains...)
	cfg := writeConfig(t, dir, `host = "web-3"
spool = "`+sp+`"
`)
	r := runHook(t, with(renewalEnv(c), "CERTEXPIRY_HOOK_CONFIG", cfg))
	if want := "certbot-hook: spooled 3 lines to " + sp + "; no url is set, so the certexpiry Telegraf input (certbot_spool) delivers them\n"; r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Fatalf("hook: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	spooled, err := os.ReadFile(sp)
	if err != nil {
		t.Fatal(err)
	}

	pluginConf := filepath.Join(dir, "certexpiry.conf")
	if err := os.WriteFile(pluginConf, fmt.Appendf(nil, "[[inputs.certexpiry]]\n  certbot_spool = %q\n", sp), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.lp")
	conf := filepath.Join(dir, "telegraf.conf")
	// Telegraf's default precision: the renewal's own nanosecond timestamp must survive it.
	if err := os.WriteFile(conf, fmt.Appendf(nil, `[agent]
  interval = "1s"
  omit_hostname = true
[[inputs.execd]]
  command = [%q, "-config", %q, "-poll_interval_disabled"]
  signal = "STDIN"
  data_format = "influx"
[[outputs.file]]
  files = [%q]
  data_format = "influx"
`, hookBin, pluginConf, out), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(telegraf, "--config", conf, "--once", "--test-wait", "5")
	log, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("telegraf: %v\n%s", err, log)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("telegraf wrote nothing: %v\n%s", err, log)
	}
	got, want := normalize(t, b), normalize(t, spooled)
	if !equal(got, want) {
		t.Fatalf("telegraf wrote\n%s\nwant\n%s\n--- telegraf log ---\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), log)
	}
	if want := expected("web-3", c, onlyTimestamp(t, got, r), domains...); !equal(got, want) {
		t.Fatalf("telegraf wrote\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if b, _ := os.ReadFile(sp); len(b) != 0 {
		t.Errorf("spool not emptied: %q", b)
	}
}
