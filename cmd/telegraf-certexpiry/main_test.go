package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func runArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestConfigErrorsStopStartUp(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.conf")
	os.WriteFile(typo, []byte("[[inputs.certexpiry]]\ndomains = [\"a.test\"]\ntimout = \"1s\"\n"), 0o600)
	invalid := filepath.Join(dir, "invalid.conf")
	os.WriteFile(invalid, []byte("[[inputs.certexpiry]]\ndomains = [\"a.test\"]\nmax_concurrency = 0\n[[inputs.certexpiry.target]]\naddress = \"h:1\"\n"), 0o600)
	cases := []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, 2, "E! -config is required: the plugin configuration file with one [[inputs.certexpiry]] block\n"},
		{[]string{"-config", typo}, 1, "E! Err loading input: " + typo + ": unknown option inputs.certexpiry.timout (did you mean timeout?)\n"},
		{[]string{"-config", invalid}, 1, "E! Err loading input: failed to init input: max_concurrency: must be at least 1, got 0\n" +
			"E! target[0].address: \"h:1\" includes a port; use address = \"h\" and ports = [1]\n"},
		{[]string{"-config", typo, "extra"}, 2, "E! unexpected argument \"extra\" (subcommands: check, certbot-hook)\n"},
		// The shim's ticker panics on a negative interval; a tiny one would hammer every backend.
		{[]string{"-config", typo, "-poll_interval", "-5s"}, 2, "E! -poll_interval: must be at least 1s, got -5s (with execd's signal = \"STDIN\" use -poll_interval_disabled instead)\n"},
		{[]string{"-config", typo, "-poll_interval", "1ms"}, 2, "E! -poll_interval: must be at least 1s, got 1ms (with execd's signal = \"STDIN\" use -poll_interval_disabled instead)\n"},
		{[]string{"-config", typo, "-poll_interval", "0s", "-poll_interval_disabled"}, 2, "E! -poll_interval: must be at least 1s, got 0s (with execd's signal = \"STDIN\" use -poll_interval_disabled instead)\n"},
		// 1s passes the check: start-up goes on to the config file.
		{[]string{"-config", typo, "-poll_interval", "1s"}, 1, "E! Err loading input: " + typo + ": unknown option inputs.certexpiry.timout (did you mean timeout?)\n"},
	}
	for _, tc := range cases {
		code, _, stderr := runArgs(t, tc.args...)
		if code != tc.code || stderr != tc.stderr {
			t.Errorf("run %q = %d\n%s\nwant %d\n%s", tc.args, code, stderr, tc.code, tc.stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"-version"}, {"version"}} {
		code, out, _ := runArgs(t, args...)
		if code != 0 || !strings.HasPrefix(out, "telegraf-certexpiry dev (go1.") {
			t.Errorf("%v: %d %q", args, code, out)
		}
	}
}

// The plugin process runs under DefaultMemoryLimitMiB unless -memory_limit_mib or GOMEMLIMIT
// says otherwise; GOMEMLIMIT (read by the runtime at start) wins over both.
func TestMemoryLimit(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "typo.conf") // start-up stops at the config, after the limit
	os.WriteFile(conf, []byte("[[inputs.certexpiry]]\ntimout = \"1s\"\n"), 0o600)
	const unset = math.MaxInt64 // the runtime's value when GOMEMLIMIT is unset
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	cases := []struct {
		env  string
		args []string
		want int64
	}{
		{"", nil, DefaultMemoryLimitMiB << 20},
		{"", []string{"-memory_limit_mib", "100"}, 100 << 20},
		{"", []string{"-memory_limit_mib", "0"}, unset},
		{"200MiB", nil, unset},
		{"200MiB", []string{"-memory_limit_mib", "100"}, unset},
	}
	for _, tc := range cases {
		t.Setenv("GOMEMLIMIT", tc.env)
		debug.SetMemoryLimit(unset)
		if code, _, stderr := runArgs(t, append(tc.args, "-config", conf)...); code != 1 || !strings.Contains(stderr, "unknown option") {
			t.Fatalf("%q: %d %s", tc.args, code, stderr)
		}
		if got := debug.SetMemoryLimit(-1); got != tc.want {
			t.Errorf("GOMEMLIMIT=%q %q: limit %d, want %d", tc.env, tc.args, got, tc.want)
		}
	}
	if code, _, stderr := runArgs(t, "-config", conf, "-memory_limit_mib", "-1"); code != 2 || stderr != "E! -memory_limit_mib: must be 0 (no limit) or more, got -1\n" {
		t.Errorf("-memory_limit_mib -1: %d %q", code, stderr)
	}
}
