package hook

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/config"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/install"
)

// runInstall puts the deploy hook script in place, after checking that the settings it will
// use load.
func runInstall(args []string, d deps) int {
	fs := flag.NewFlagSet("certbot-hook install", flag.ContinueOnError)
	fs.SetOutput(d.stderr)
	fs.Usage = func() { fmt.Fprint(d.stderr, usage) }
	dir := fs.String("dir", install.DefaultDir, "certbot's deploy hook directory")
	name := fs.String("name", install.DefaultName, "file name of the hook script")
	cfgPath := fs.String("config", config.DefaultPath, "settings file the hook reads (must exist and load)")
	binary := fs.String("binary", "", "path of telegraf-certexpiry the hook runs (default: this binary)")
	force := fs.Bool("force", false, "replace a different script of the same name")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		d.logf("install: unexpected argument %q", fs.Arg(0))
		return ExitUsage
	}
	bin := *binary
	if bin == "" {
		exe, err := d.executable()
		if err == nil {
			exe, err = filepath.EvalSymlinks(exe)
		}
		if err != nil {
			d.logf("install: finding this binary: %v (give --binary)", err)
			return ExitFailed
		}
		bin = exe
	}
	cfg, err := filepath.Abs(*cfgPath)
	if err != nil {
		d.logf("install: %v", err)
		return ExitUsage
	}
	// The hook runs with certbot's environment, not this shell's: check the file alone.
	if _, err := config.Load(cfg, func(string) string { return "" }); err != nil {
		d.logf("install: the hook would fail: %v", err)
		return ExitUsage
	}
	path, changed, err := install.Install(install.Options{Dir: *dir, Name: *name, Binary: bin, Config: cfg, Force: *force})
	if err != nil {
		d.logf("%v", err)
		return ExitFailed
	}
	if changed {
		d.infof("installed %s: runs %s certbot-hook -config %s after each renewal", path, bin, cfg)
	} else {
		d.infof("%s is already installed and up to date", path)
	}
	return ExitOK
}
