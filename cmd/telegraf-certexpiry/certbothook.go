package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/config"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/hook"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/install"
)

// The certbot-hook subcommand: flags and usage of its three forms. What the hook does is in
// internal/certbot/hook; the script `install` writes is in internal/certbot/install.
//
//	certbot-hook [-config FILE] [--dry-run]   report RENEWED_DOMAINS / RENEWED_LINEAGE
//	certbot-hook flush [-config FILE]         deliver the spool now
//	certbot-hook install [--dir D] [--name N] [--config FILE] [--binary PATH] [--force]
//
// The exit codes are hook's: 0 done, 1 failed, 2 bad usage or settings.

const certbotHookUsage = `Usage:
  telegraf-certexpiry certbot-hook [-config FILE] [--dry-run]
      certbot deploy hook: report RENEWED_DOMAINS / RENEWED_LINEAGE as certbot_renewal points
      (appended to the spool first, then the spool is delivered oldest first)
  telegraf-certexpiry certbot-hook flush [-config FILE]
      deliver the spool now
  telegraf-certexpiry certbot-hook install [--dir DIR] [--name NAME] [--config FILE] [--binary PATH] [--force]
      put a script into certbot's renewal-hooks/deploy that runs this hook with FILE

Settings: a TOML file (default ` + config.DefaultPath + `, or $` + config.EnvConfig + `)
and CERTEXPIRY_HOOK_* environment variables; see docs/certbot-hook.md.
`

// certbotHook is the subcommand's outside world: the hook's own, and where this binary is
// (for install's default --binary).
type certbotHook struct {
	env        hook.Env
	executable func() (string, error)
}

// run runs `certbot-hook args...` and returns the exit code.
func (c certbotHook) run(ctx context.Context, args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "flush":
			return c.flush(ctx, args[1:])
		case "install":
			return c.install(args[1:])
		case "help", "-h", "-help", "--help":
			fmt.Fprint(c.env.Stdout, certbotHookUsage)
			return hook.ExitOK
		}
	}
	return c.report(ctx, args)
}

// newFlagSet is a flag set that prints certbotHookUsage on -h or a bad flag.
func (c certbotHook) newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.env.Stderr)
	fs.Usage = func() { fmt.Fprint(c.env.Stderr, certbotHookUsage) }
	return fs
}

// parse parses args, which must hold flags only; unexpected formats the complaint about a
// positional argument (%q). ok false means return code now: 0 after -h, 2 otherwise.
func (c certbotHook) parse(fs *flag.FlagSet, args []string, unexpected string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return hook.ExitOK, false
		}
		return hook.ExitUsage, false
	}
	if fs.NArg() > 0 {
		c.env.Logf(unexpected, fs.Arg(0))
		return hook.ExitUsage, false
	}
	return 0, true
}

const hookConfigFlagHelp = "settings file (default " + config.DefaultPath + " or $" + config.EnvConfig + ")"

func (c certbotHook) report(ctx context.Context, args []string) int {
	fs := c.newFlagSet("certbot-hook")
	configPath := fs.String("config", "", hookConfigFlagHelp)
	dryRun := fs.Bool("dry-run", false, "print the lines that would be written; spool and send nothing")
	if code, ok := c.parse(fs, args, "unexpected argument %q (subcommands: flush, install)"); !ok {
		return code
	}
	return c.env.Report(ctx, *configPath, *dryRun)
}

func (c certbotHook) flush(ctx context.Context, args []string) int {
	fs := c.newFlagSet("certbot-hook flush")
	configPath := fs.String("config", "", hookConfigFlagHelp)
	if code, ok := c.parse(fs, args, "flush: unexpected argument %q"); !ok {
		return code
	}
	return c.env.Flush(ctx, *configPath)
}

// install puts the deploy hook script in place, after checking that the settings it will use
// load.
func (c certbotHook) install(args []string) int {
	fs := c.newFlagSet("certbot-hook install")
	dir := fs.String("dir", install.DefaultDir, "certbot's deploy hook directory")
	name := fs.String("name", install.DefaultName, "file name of the hook script")
	cfgPath := fs.String("config", config.DefaultPath, "settings file the hook reads (must exist and load)")
	binary := fs.String("binary", "", "path of telegraf-certexpiry the hook runs (default: this binary)")
	force := fs.Bool("force", false, "replace a different script of the same name")
	if code, ok := c.parse(fs, args, "install: unexpected argument %q"); !ok {
		return code
	}
	bin := *binary
	if bin == "" {
		exe, err := c.executable()
		if err == nil {
			exe, err = filepath.EvalSymlinks(exe)
		}
		if err != nil {
			c.env.Logf("install: finding this binary: %v (give --binary)", err)
			return hook.ExitFailed
		}
		bin = exe
	}
	cfg, err := filepath.Abs(*cfgPath)
	if err != nil {
		c.env.Logf("install: %v", err)
		return hook.ExitUsage
	}
	// The hook runs with certbot's environment, not this shell's: check the file alone.
	if _, err := config.Load(cfg, func(string) string { return "" }); err != nil {
		c.env.Logf("install: the hook would fail: %v", err)
		return hook.ExitUsage
	}
	path, changed, err := install.Install(install.Options{Dir: *dir, Name: *name, Binary: bin, Config: cfg, Force: *force})
	if err != nil {
		c.env.Logf("%v", err)
		return hook.ExitFailed
	}
	if changed {
		c.env.Infof("installed %s: runs %s certbot-hook -config %s after each renewal", path, bin, cfg)
	} else {
		c.env.Infof("%s is already installed and up to date", path)
	}
	return hook.ExitOK
}
