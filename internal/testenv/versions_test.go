package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeCommand writes an executable that prints out, standing in for a component.
func fakeCommand(t *testing.T, out string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cmd")
	if err := os.WriteFile(path, []byte("#!/bin/sh\nprintf '%s\\n' '"+out+"'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCommandVersionChecks(t *testing.T) {
	influxd, _ := commandVersion("influxd")
	certbot, _ := commandVersion("certbot")
	for _, tc := range []struct {
		check versionCheck
		out   string
		err   string // "" means accepted; CMD is the fake's path
	}{
		{influxd, "InfluxDB v1.6.7~rc0 (git: unknown unknown)", ""},
		{influxd, "InfluxDB v1.8.3 (git: unknown unknown)",
			`CMD is "InfluxDB v1.8.3 (git: unknown unknown)" (from ` + "`CMD version`" + `), but the tests are written against "InfluxDB v1.6.7": install that version (Debian package influxdb)`},
		{certbot, "certbot 2.1.0", ""},
		{certbot, "certbot 2.11.0",
			`CMD is "certbot 2.11.0" (from ` + "`CMD --version`" + `), but the tests are written against "certbot 2.1.": install that version (Debian package influxdb)`},
	} {
		path := fakeCommand(t, tc.out)
		err := tc.check.verify(path, "influxdb")
		want := strings.ReplaceAll(tc.err, "CMD", path)
		if (err == nil) != (tc.err == "") || err != nil && err.Error() != want {
			t.Errorf("%q: error %v\nwant %s", tc.out, err, want)
		}
	}
	if _, ok := commandVersion("openssl"); ok {
		t.Error("openssl has a version check, but no test claims a version of it")
	}
}

func TestModuleVersion(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A test binary records its main module (dependencies are covered by TestInstalledVersions).
	if v, err := moduleVersion(self, "github.com/telegraf-certexpiry/telegraf-certexpiry"); err != nil || v != "(devel)" {
		t.Errorf("main module version %q, %v; want (devel)", v, err)
	}
	if _, err := moduleVersion(self, "github.com/influxdata/influxdb"); err == nil || err.Error() != self+" was not built from module github.com/influxdata/influxdb" {
		t.Errorf("a module it was not built from: %v", err)
	}
}

// The components installed here are the ones the tests claim.
func TestInstalledVersions(t *testing.T) {
	RequireIntegration(t)
	Command(t, "influxd", "influxdb")
	Command(t, "certbot", "certbot")
	Command(t, "pebble", "pebble")
	Command(t, "pebble-challtestsrv", "pebble")
	requireModuleVersion(t, Binary(t, "influxd18"), "github.com/influxdata/influxdb", "v"+InfluxDB18Version)
}
