// Package testenv locates the real components integration tests run against (telegraf,
// kube-apiserver, etcd, InfluxDB, Kapacitor, certbot, pebble) and starts the simple ones.
//
// Integration tests are opt-in: they run when CERTEXPIRY_INTEGRATION=1 (make test sets it),
// and are skipped otherwise so that `go test ./...` stays a fast unit run. When integration is
// on, a missing component is a test failure with the command that provides it, never a skip.
package testenv

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// IntegrationEnv is the environment variable that turns integration tests on.
const IntegrationEnv = "CERTEXPIRY_INTEGRATION"

// Integration reports whether integration tests are on.
func Integration() bool { return os.Getenv(IntegrationEnv) == "1" }

// RequireIntegration skips the test unless integration tests are on.
func RequireIntegration(t testing.TB) {
	t.Helper()
	if !Integration() {
		t.Skipf("integration test: set %s=1 or run `make test`", IntegrationEnv)
	}
}

// RepoRoot returns the repository's top directory (the one holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "test", "tools", "build.sh")); err == nil {
				return dir
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: repository root (go.mod with test/tools/build.sh) not found above the working directory")
		}
		dir = parent
	}
}

// Binary returns the path of a Go-built component (telegraf, etcd, kube-apiserver, influxd18,
// kapacitord), building and caching it through test/tools/build.sh on first use. The path of the
// kapacitor CLI sits next to kapacitord (see KapacitorCLI). Skips unless integration is on.
func Binary(t testing.TB, name string) string {
	t.Helper()
	RequireIntegration(t)
	cmd := exec.Command(filepath.Join(RepoRoot(t), "test", "tools", "build.sh"), name)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("testenv: building %s: %v\n%s", name, err, stderr.String())
	}
	path := strings.TrimSpace(stdout.String())
	if path == "" {
		t.Fatalf("testenv: build.sh %s printed no path\n%s", name, stderr.String())
	}
	return path
}

// KapacitorCLI returns the kapacitor CLI built alongside kapacitord.
func KapacitorCLI(t testing.TB) string {
	t.Helper()
	d := Binary(t, "kapacitord")
	return filepath.Join(filepath.Dir(d), strings.Replace(filepath.Base(d), "kapacitord", "kapacitor", 1))
}

// Command returns the path of a command installed from a Debian package (influxd, certbot,
// pebble, ...). Skips unless integration is on; fails naming the package when it is missing,
// and when influxd, certbot or pebble is not the version the tests are written against.
func Command(t testing.TB, name, debianPackage string) string {
	t.Helper()
	RequireIntegration(t)
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("testenv: %s not found: install it with `apt-get install %s` (make test does this as root)", name, debianPackage)
	}
	requireCommandVersion(t, name, path, debianPackage)
	return path
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreeAddr returns "127.0.0.1:PORT" with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
}
