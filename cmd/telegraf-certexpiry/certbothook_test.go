package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/hook"
)

// runHook runs `certbot-hook args...` with an empty environment, no default settings file and
// exe as this binary's path. What the hook does with a renewal is tested in
// internal/certbot/hook; these tests cover the command line.
func runHook(t *testing.T, exe string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := hook.NewEnv(func(string) string { return "" }, &out, &errb)
	env.DefaultConfig = filepath.Join(t.TempDir(), "no-default.toml")
	env.Hostname = func() (string, error) { return "", errors.New("no hostname in tests") }
	c := certbotHook{env: env, executable: func() (string, error) { return exe, nil }}
	code = c.run(context.Background(), args)
	return code, out.String(), errb.String()
}

func TestCertbotHookBadArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"renew"}, "certbot-hook: unexpected argument \"renew\" (subcommands: flush, install)\n"},
		{[]string{"flush", "now"}, "certbot-hook: flush: unexpected argument \"now\"\n"},
		{[]string{"install", "here"}, "certbot-hook: install: unexpected argument \"here\"\n"},
	} {
		code, stdout, stderr := runHook(t, "/nonexistent", tc.args...)
		if code != hook.ExitUsage || stdout != "" || stderr != tc.want {
			t.Errorf("%q: code %d stdout %q stderr\n%q\nwant\n%q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

func TestCertbotHookHelp(t *testing.T) {
	// Asked for: the usage on stdout. After a subcommand's -h: on stderr, like a bad flag.
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		code, stdout, stderr := runHook(t, "/nonexistent", args...)
		if code != 0 || stdout != certbotHookUsage || stderr != "" {
			t.Errorf("%q: code %d stdout %q stderr %q", args, code, stdout, stderr)
		}
	}
	for _, args := range [][]string{{"-config", "x", "-h"}, {"flush", "-h"}, {"install", "-h"}} {
		code, stdout, stderr := runHook(t, "/nonexistent", args...)
		if code != 0 || stdout != "" || stderr != certbotHookUsage {
			t.Errorf("%q: code %d stdout %q stderr %q", args, code, stdout, stderr)
		}
	}
}

func TestInstallCommand(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "bin", "telegraf-certexpiry")
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "hook.toml")
	if err := os.WriteFile(cfg, []byte("url = \"http://127.0.0.1:1\"\ndatabase = \"telegraf\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hooks := filepath.Join(dir, "renewal-hooks", "deploy")
	code, stdout, stderr := runHook(t, exe, "install", "--dir", hooks, "--config", cfg)
	path := filepath.Join(hooks, "telegraf-certexpiry")
	if want := "certbot-hook: installed " + path + ": runs " + exe + " certbot-hook -config " + cfg + " after each renewal\n"; code != 0 || stdout != want || stderr != "" {
		t.Fatalf("code %d stdout %q stderr %q", code, stdout, stderr)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasSuffix(string(b), "exec '"+exe+"' certbot-hook -config '"+cfg+"'\n") {
		t.Errorf("script %q", b)
	}
	code, stdout, stderr = runHook(t, exe, "install", "--dir", hooks, "--config", cfg)
	if want := "certbot-hook: " + path + " is already installed and up to date\n"; code != 0 || stdout != want || stderr != "" {
		t.Errorf("again: code %d stdout %q stderr %q", code, stdout, stderr)
	}
	// A config that would fail at renewal time is refused now.
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("urll = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runHook(t, exe, "install", "--dir", hooks, "--config", bad, "--name", "other")
	if !strings.HasPrefix(stderr, "certbot-hook: install: the hook would fail: "+bad+": urll: unknown setting") || code != 2 {
		t.Errorf("bad config: %d %q", code, stderr)
	}
}
