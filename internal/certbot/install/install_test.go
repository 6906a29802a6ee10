package install

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestScriptQuoting(t *testing.T) {
	got := string(Script("/opt/it's here/telegraf-certexpiry", "/etc/x $HOME/hook.toml"))
	want := `#!/bin/sh
# Installed by "telegraf-certexpiry certbot-hook install": reports each certbot renewal
# (RENEWED_DOMAINS, RENEWED_LINEAGE) as certbot_renewal points. Settings: /etc/x $HOME/hook.toml
exec '/opt/it'\''s here/telegraf-certexpiry' certbot-hook -config '/etc/x $HOME/hook.toml'
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestInstalledScriptRuns runs the installed script with sh, with a stand-in "binary" that
// prints its arguments, to prove the quoting survives a real shell.
func TestInstalledScriptRuns(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin dir", "it's")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	hooks := filepath.Join(dir, "renewal-hooks", "deploy")
	path, changed, err := Install(Options{Dir: hooks, Binary: bin, Config: "/etc/a b/$x'.toml"})
	if err != nil || !changed || path != filepath.Join(hooks, "telegraf-certexpiry") {
		t.Fatalf("Install: %s %v %v", path, changed, err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v", fi.Mode())
	}
	out, err := exec.Command(path).CombinedOutput()
	if want := "[certbot-hook]\n[-config]\n[/etc/a b/$x'.toml]\n"; err != nil || string(out) != want {
		t.Fatalf("script output %q (%v), want %q", out, err, want)
	}

	// Same content again: nothing changes. Different content: refused without Force.
	if _, changed, err := Install(Options{Dir: hooks, Binary: bin, Config: "/etc/a b/$x'.toml"}); err != nil || changed {
		t.Errorf("reinstall: changed=%v err=%v", changed, err)
	}
	_, _, err = Install(Options{Dir: hooks, Binary: bin, Config: "/etc/other.toml"})
	if !errors.Is(err, ErrExists) || err.Error() != "install: "+path+": a different file exists there (use --force to replace it)" {
		t.Errorf("conflict: %v", err)
	}
	if _, changed, err := Install(Options{Dir: hooks, Binary: bin, Config: "/etc/other.toml", Force: true}); err != nil || !changed {
		t.Errorf("force: changed=%v err=%v", changed, err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "'/etc/other.toml'") {
		t.Errorf("forced content %q", b)
	}
	entries, _ := os.ReadDir(hooks)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
}

func TestInstallErrors(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Binary: "telegraf-certexpiry", Config: "/c"}, `install: binary "telegraf-certexpiry": want an absolute path (certbot runs hooks from its own working directory)`},
		{Options{Binary: "/b", Config: "c.toml"}, `install: config "c.toml": want an absolute path`},
		{Options{Binary: "/b", Config: "/c", Name: "../x"}, `install: name "../x": want a plain file name`},
	} {
		if _, _, err := Install(tc.o); err == nil || err.Error() != tc.want {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
}
