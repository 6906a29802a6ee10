package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestInstallBinaryCopiesThisExecutable(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dst := filepath.Join(dir, "telegraf-certexpiry")
	// A stale file of the same name (an earlier init container's run) is replaced.
	if err := os.WriteFile(dst, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runArgs(t, "install-binary", dir)
	if code != 0 || stderr != "" {
		t.Fatalf("install-binary = %d, stderr %q", code, stderr)
	}
	if wantOut := "install-binary: wrote " + dst + " (" + itoa(len(want)) + " bytes, version dev)\n"; stdout != wantOut {
		t.Errorf("stdout %q, want %q", stdout, wantOut)
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("copied %d bytes, differs from the %d of %s", len(got), len(want), self)
	}
	st, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the binary (no temporary file left)", len(entries))
	}
}

func TestInstallBinaryErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, 2, "install-binary: want exactly one argument, the directory to copy the binary into\nUsage: telegraf-certexpiry install-binary DIR\n"},
		{[]string{dir, dir}, 2, "install-binary: want exactly one argument"},
		{[]string{missing}, 1, "install-binary: target directory: stat " + missing + ": no such file or directory\n"},
		{[]string{file}, 1, "install-binary: target directory " + file + ": not a directory\n"},
	} {
		code, stdout, stderr := runArgs(t, append([]string{"install-binary"}, c.args...)...)
		if code != c.code || !strings.HasPrefix(stderr, c.stderr) || stdout != "" {
			t.Errorf("install-binary %q = %d, stdout %q, stderr %q; want %d, stderr starting %q", c.args, code, stdout, stderr, c.code, c.stderr)
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a missing directory was created: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
