// Package pkgtest checks the installable artefacts as users get them: the .deb installed with
// dpkg on this machine and run under a real telegraf, the .rpm read with rpm, the OCI image
// unpacked and run, and the Helm chart rendered and applied to a real kube-apiserver.
package pkgtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// makeTarget runs `make TARGET DIST=dir` in the repository and returns dir's files by suffix
// (".deb", ".rpm", "-oci.tar").
func makeTarget(t *testing.T, target string) map[string]string {
	t.Helper()
	dist := t.TempDir()
	cmd := exec.Command("make", "-s", target, "DIST="+dist)
	cmd.Dir = testenv.RepoRoot(t)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("make %s: %v\n%s", target, err, out.String())
	}
	entries, err := os.ReadDir(dist)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		for _, suffix := range []string{".deb", ".rpm", "-oci.tar"} {
			if strings.HasSuffix(e.Name(), suffix) {
				if files[suffix] != "" {
					t.Fatalf("make %s left two %s files in %s", target, suffix, dist)
				}
				files[suffix] = filepath.Join(dist, e.Name())
			}
		}
	}
	return files
}

// run runs a command and returns its combined output; a non-zero exit fails the test.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func itoa(n int) string { return strconv.Itoa(n) }

func strconvOctal(mode int64) string { return fmt.Sprintf("%04o", mode) }
