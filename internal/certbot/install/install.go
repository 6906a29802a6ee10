// Package install writes the small executable certbot runs from its renewal-hooks/deploy
// directory: a shell script that execs this binary's certbot-hook with a fixed config file, so
// the hook works whatever environment certbot was started with.
package install

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultDir is certbot's deploy hook directory; certbot runs every executable in it after
// each successful renewal (and only then).
const DefaultDir = "/etc/letsencrypt/renewal-hooks/deploy"

// DefaultName is the installed script's file name.
const DefaultName = "telegraf-certexpiry"

// Options say what to install where.
type Options struct {
	Dir    string // default DefaultDir
	Name   string // default DefaultName
	Binary string // absolute path of telegraf-certexpiry; required
	Config string // config file passed with -config; required
	// Force replaces an existing script with different content.
	Force bool
}

// ErrExists means a different file is already installed under that name.
var ErrExists = errors.New("a different file exists there")

// Script is the hook script's content.
func Script(binary, config string) []byte {
	return fmt.Appendf(nil, `#!/bin/sh
# Installed by "telegraf-certexpiry certbot-hook install": reports each certbot renewal
# (RENEWED_DOMAINS, RENEWED_LINEAGE) as certbot_renewal points. Settings: %s
exec %s certbot-hook -config %s
`, strings.ReplaceAll(config, "\n", " "), shellQuote(binary), shellQuote(config))
}

// shellQuote quotes s for sh: inside single quotes nothing is special except the quote itself.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Install writes the script (mode 0755, atomically) and returns its path and whether it
// changed anything. An identical script already there is left alone.
func Install(o Options) (path string, changed bool, err error) {
	if o.Dir == "" {
		o.Dir = DefaultDir
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if !filepath.IsAbs(o.Binary) {
		return "", false, fmt.Errorf("install: binary %q: want an absolute path (certbot runs hooks from its own working directory)", o.Binary)
	}
	if !filepath.IsAbs(o.Config) {
		return "", false, fmt.Errorf("install: config %q: want an absolute path", o.Config)
	}
	if strings.ContainsRune(o.Name, '/') || o.Name == "." || o.Name == ".." {
		return "", false, fmt.Errorf("install: name %q: want a plain file name", o.Name)
	}
	path = filepath.Join(o.Dir, o.Name)
	script := Script(o.Binary, o.Config)
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, script):
		return path, false, os.Chmod(path, 0o755)
	case err == nil && !o.Force:
		return path, false, fmt.Errorf("install: %s: %w (use --force to replace it)", path, ErrExists)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return path, false, fmt.Errorf("install: %w", err)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return path, false, fmt.Errorf("install: %w", err)
	}
	tmp, err := os.CreateTemp(o.Dir, "."+o.Name+".*")
	if err != nil {
		return path, false, fmt.Errorf("install: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(script); err != nil {
		tmp.Close()
		return path, false, fmt.Errorf("install: %w", err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return path, false, fmt.Errorf("install: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return path, false, fmt.Errorf("install: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return path, false, fmt.Errorf("install: %w", err)
	}
	return path, true, nil
}
