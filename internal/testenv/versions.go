package testenv

import (
	"debug/buildinfo"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// Versions of the components whose behaviour the tests and the docs describe. A test that
// claims to run against one of them fails when another version is installed, naming both,
// instead of passing or failing for a reason nobody sees.
const (
	InfluxDB16Version = "1.6.7" // Debian bookworm's influxdb
	InfluxDB18Version = "1.8.3" // built from the module proxy (Flux, /api/v2/write)
	CertbotVersion    = "2.1"   // Debian bookworm's certbot
	PebbleVersion     = "2.4.0" // Debian bookworm's pebble and pebble-challtestsrv
)

// versionCheck says how to read a command's version and what it must begin with.
type versionCheck struct {
	args []string // the version command's arguments; nil: ask dpkg for package's version
	want string   // prefix of the output (trimmed)
}

// commandVersion returns the check for a command that Command locates, if it has one.
func commandVersion(name string) (versionCheck, bool) {
	switch name {
	case "influxd":
		// "InfluxDB v1.6.7~rc0 (git: unknown unknown)"
		return versionCheck{args: []string{"version"}, want: "InfluxDB v" + InfluxDB16Version}, true
	case "certbot":
		// "certbot 2.1.0"
		return versionCheck{args: []string{"--version"}, want: "certbot " + CertbotVersion + "."}, true
	case "pebble", "pebble-challtestsrv":
		// Neither has a version flag, and Debian's build records no module version: the
		// package's version is the one source ("2.4.0+ds1-2+b4").
		return versionCheck{want: PebbleVersion}, true
	}
	return versionCheck{}, false
}

// requireCommandVersion fails t unless the command at path (found as name, from
// debianPackage) is the version the tests are written against.
func requireCommandVersion(t testing.TB, name, path, debianPackage string) {
	t.Helper()
	if check, ok := commandVersion(name); ok {
		if err := check.verify(path, debianPackage); err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}
}

func (check versionCheck) verify(path, debianPackage string) error {
	var cmd *exec.Cmd
	if check.args == nil {
		cmd = exec.Command("dpkg-query", "-W", "-f", "${Version}", debianPackage)
	} else {
		cmd = exec.Command(path, check.args...)
	}
	out, err := cmd.CombinedOutput()
	got := strings.TrimSpace(string(out))
	if err != nil {
		return fmt.Errorf("cannot tell the version of %s (`%s`): %v: %s", path, strings.Join(cmd.Args, " "), err, got)
	}
	if !strings.HasPrefix(got, check.want) {
		return fmt.Errorf("%s is %q (from `%s`), but the tests are written against %q: install that version (Debian package %s)",
			path, firstLine(got), strings.Join(cmd.Args, " "), check.want, debianPackage)
	}
	return nil
}

// requireModuleVersion fails t unless the Go binary at path was built from module mod at
// version want (its own build information; `influxd version` of a proxy build says
// "vunknown").
func requireModuleVersion(t testing.TB, path, mod, want string) {
	t.Helper()
	got, err := moduleVersion(path, mod)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if got != want {
		t.Fatalf("testenv: %s was built from %s %s, but the tests are written against %s: rebuild it with test/tools/build.sh", path, mod, got, want)
	}
}

// moduleVersion reads the version of module mod (main module or dependency) that the Go
// binary at path was built from.
func moduleVersion(path, mod string) (string, error) {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the build information of %s: %w", path, err)
	}
	if info.Main.Path == mod {
		return info.Main.Version, nil
	}
	for _, d := range info.Deps {
		if d.Path == mod {
			if d.Replace != nil {
				return d.Replace.Version, nil
			}
			return d.Version, nil
		}
	}
	return "", fmt.Errorf("%s was not built from module %s", path, mod)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
