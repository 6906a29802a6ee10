package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// installBinaryName is the file name install-binary writes: the name the shipped
// telegraf.conf runs (/usr/local/bin/telegraf-certexpiry, mounted from the shared volume).
const installBinaryName = "telegraf-certexpiry"

// runInstallBinary implements `telegraf-certexpiry install-binary DIR`: it copies this
// executable to DIR/telegraf-certexpiry with mode 0755. It is the whole job of the image's init
// container, which hands the static binary to the official telegraf image through a shared
// emptyDir volume, so Telegraf itself keeps its own image and upgrades.
//
// The copy is atomic (a temporary file in DIR, synced, then renamed over the target), so a
// restarted init container never leaves a half-written binary; running it again replaces the
// file. DIR must exist: a missing volume mount is an error, not a directory created in the
// image's own file system.
func runInstallBinary(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("install-binary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: telegraf-certexpiry install-binary DIR

Copies this binary to DIR/telegraf-certexpiry (mode 0755), e.g. into an emptyDir volume that
an init container shares with the official telegraf image (deploy/kubernetes/deployment.yaml).
`)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "install-binary: want exactly one argument, the directory to copy the binary into")
		fs.Usage()
		return 2
	}
	src, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "install-binary: finding this executable: %v\n", err)
		return 1
	}
	dst, n, err := installBinary(src, fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "install-binary: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "install-binary: wrote %s (%d bytes, version %s)\n", dst, n, version)
	return 0
}

// installBinary copies src to dir/telegraf-certexpiry atomically and returns the path written
// and its size.
func installBinary(src, dir string) (string, int64, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return "", 0, fmt.Errorf("target directory: %w", err)
	}
	if !st.IsDir() {
		return "", 0, fmt.Errorf("target directory %s: not a directory", dir)
	}
	in, err := os.Open(src)
	if err != nil {
		return "", 0, err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(dir, "."+installBinaryName+".tmp-*")
	if err != nil {
		return "", 0, err
	}
	// Removing after a successful rename fails harmlessly: the name is gone.
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, in)
	if err == nil {
		err = tmp.Chmod(0o755)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	dst := filepath.Join(dir, installBinaryName)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", 0, err
	}
	return dst, n, nil
}
