package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/demo"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/plugin"
)

// The shipped host plugin.conf passes the start-up checks and initialises (no network: Init
// only validates).
func TestShippedHostPluginConfig(t *testing.T) {
	path := filepath.Join(testenv.RepoRoot(t), "deploy", "telegraf", "plugin.conf")
	p, err := plugin.LoadConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Init(); err != nil {
		t.Fatalf("Init: %v", err)
	}
	if len(p.Targets) != 3 || p.Targets[2].Address != "2001:db8::12" {
		t.Fatalf("targets %+v", p.Targets)
	}
}

// The shipped Telegraf drop-in, with only the paths changed, runs the plugin under a real
// telegraf and yields rows.
func TestShippedTelegrafDropIn(t *testing.T) {
	telegrafBin := testenv.Binary(t, "telegraf")
	pluginBin := buildPlugin(t)
	scene, err := demo.Start(t.TempDir(), pluginBin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer scene.Close()
	dropIn, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "deploy", "telegraf", "certexpiry.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer(
		"/usr/local/bin/telegraf-certexpiry", pluginBin,
		"/etc/telegraf-certexpiry/plugin.conf", scene.PluginConfig,
	).Replace(string(dropIn))
	if conf == string(dropIn) {
		t.Fatal("the drop-in no longer names /usr/local/bin/telegraf-certexpiry and /etc/telegraf-certexpiry/plugin.conf")
	}
	out := filepath.Join(t.TempDir(), "out.lp")
	conf = "[agent]\n  omit_hostname = true\n" + conf + "\n[[outputs.file]]\n  files = [\"" + out + "\"]\n"
	confPath := filepath.Join(t.TempDir(), "telegraf.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	log := runTelegrafOnce(t, telegrafBin, confPath)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("no output: %v\n%s", err, log)
	}
	metrics := parseLines(t, data)
	if len(metrics) != len(scene.Backends) {
		t.Fatalf("%d rows, want %d\n%s\n%s", len(metrics), len(scene.Backends), data, log)
	}
	for _, m := range metrics {
		if m.Name() != "cert_expiry" || m.Tags()["domain"] != demo.Domain {
			t.Errorf("unexpected row %v", m)
		}
	}
}
