package certbot

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// waitLines polls Telegraf's output file until it holds n lines and returns its content.
// The deadline only bounds a broken run; no assertion depends on timing.
func waitLines(t *testing.T, p *testenv.Process, path string, n int) []byte {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Count(string(b), "\n") >= n {
			return b
		}
		if time.Now().After(deadline) || p.Exited() {
			t.Fatalf("telegraf output %s has %d lines, want %d:\n%s", path, strings.Count(string(b), "\n"), n, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTelegrafListeners sends renewals to a real Telegraf's influxdb_listener (v1 path, basic
// auth) and influxdb_v2_listener (token), and checks what Telegraf's outputs.file writes.
func TestTelegrafListeners(t *testing.T) {
	telegraf := testenv.Binary(t, "telegraf")
	dir := t.TempDir()
	v1, v2 := testenv.FreeAddr(t), testenv.FreeAddr(t)
	out := filepath.Join(dir, "out.lp")
	conf := filepath.Join(dir, "telegraf.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, `[agent]
  interval = "1s"
  flush_interval = "200ms"
  omit_hostname = true
[[inputs.influxdb_listener]]
  service_address = %q
  basic_username = "certbot"
  basic_password = "li$tener pw"
[[inputs.influxdb_v2_listener]]
  service_address = %q
  token = "tok-123"
[[outputs.file]]
  files = [%q]
  data_format = "influx"
`, v1, v2, out), 0o600); err != nil {
		t.Fatal(err)
	}
	p := testenv.Start(t, telegraf, "--config", conf)
	testenv.WaitHTTP(t, p, "http://"+v1+"/ping", 204, 60*time.Second)
	testenv.WaitHTTP(t, p, "http://"+v2+"/ping", 204, 60*time.Second)

	nb := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	c := writeLineage(t, dir, nb, nb.Add(45*24*time.Hour), domains...)

	// v1: Telegraf's influxdb_listener, password from a file.
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("li$tener pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg1 := writeConfig(t, t.TempDir(), `url = "http://`+v1+`"
username = "certbot"
password_file = "`+pw+`"
host = "host with spaces"
spool = "`+filepath.Join(dir, "spool1.lp")+`"
[tags]
  env = "prod"
`)
	r1 := runHook(t, with(renewalEnv(c), "CERTEXPIRY_HOOK_CONFIG", cfg1))
	if r1.code != 0 || r1.stderr != "" || r1.stdout != "certbot-hook: delivered 3 lines to http://"+v1+"/write\n" {
		t.Fatalf("v1: exit %d, stdout %q, stderr %q", r1.code, r1.stdout, r1.stderr)
	}
	got := normalize(t, waitLines(t, p, out, 3))
	want := expectedTags("env=prod host=host with spaces", c, onlyTimestamp(t, got, r1), domains...)
	if !equal(got, want) {
		t.Fatalf("telegraf wrote\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// v2: Telegraf's influxdb_v2_listener, token from the environment only.
	env2 := with(renewalEnv(c),
		"CERTEXPIRY_HOOK_URL", "http://"+v2,
		"CERTEXPIRY_HOOK_API", "v2",
		"CERTEXPIRY_HOOK_BUCKET", "certs",
		"CERTEXPIRY_HOOK_TOKEN", "tok-123",
		"CERTEXPIRY_HOOK_HOST", "web-2",
		"CERTEXPIRY_HOOK_SPOOL", filepath.Join(dir, "spool2.lp"),
		"CERTEXPIRY_HOOK_CONFIG", filepath.Join(dir, "none.toml"))
	// An explicit config that is missing is an error, not silently ignored. Where to spool
	// is then in doubt, so the renewal's points go to stderr (certbot's log) instead.
	r := runHook(t, env2)
	missing := filepath.Join(dir, "none.toml")
	head := "certbot-hook: " + missing + ": open " + missing + ": no such file or directory\n" +
		"certbot-hook: the renewal was NOT recorded: the settings do not say for certain where to spool it; the points below use the default measurement and no extra tags. Its 3 points follow, to be written by hand:\n"
	if r.code != 2 || !strings.HasPrefix(r.stderr, head) {
		t.Fatalf("missing config: exit %d, stderr %q", r.code, r.stderr)
	}
	printed := normalize(t, []byte(strings.TrimPrefix(r.stderr, head)))
	if want := expected("web-2", c, onlyTimestamp(t, printed, r), domains...); !equal(printed, want) {
		t.Fatalf("printed\n%s\nwant\n%s", strings.Join(printed, "\n"), strings.Join(want, "\n"))
	}
	if _, err := os.Stat(filepath.Join(dir, "spool2.lp")); !os.IsNotExist(err) {
		t.Errorf("spooled although the settings were unusable: %v", err)
	}
	delete(env2, "CERTEXPIRY_HOOK_CONFIG")
	r2 := runHook(t, env2)
	if r2.code != 0 || r2.stderr != "" || r2.stdout != "certbot-hook: delivered 3 lines to http://"+v2+"/api/v2/write\n" {
		t.Fatalf("v2: exit %d, stdout %q, stderr %q", r2.code, r2.stdout, r2.stderr)
	}
	all := normalize(t, waitLines(t, p, out, 6))
	got2 := filterOut(all, got)
	if want := expected("web-2", c, onlyTimestamp(t, got2, r2), domains...); !equal(got2, want) {
		t.Fatalf("telegraf wrote\n%s\nwant\n%s", strings.Join(got2, "\n"), strings.Join(want, "\n"))
	}

	// A wrong token: Telegraf's 401 is not retried and its message reaches the user.
	sp := filepath.Join(dir, "spool3.lp")
	r = runHook(t, with(env2, "CERTEXPIRY_HOOK_TOKEN", "wrong", "CERTEXPIRY_HOOK_SPOOL", sp))
	want401 := "certbot-hook: http://" + v2 + "/api/v2/write answered 401 Unauthorized: Unauthorized\n" +
		"certbot-hook: 3 lines stay in " + sp + " for the next run (or `telegraf-certexpiry certbot-hook flush`)\n"
	if r.code != 1 || r.stderr != want401 {
		t.Fatalf("wrong token: exit %d, stderr\n%s\nwant\n%s", r.code, r.stderr, want401)
	}
}
