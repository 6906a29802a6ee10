package hook

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/config"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/spool"
)

// runFlush delivers the spool on demand.
func runFlush(ctx context.Context, args []string, d deps) int {
	fs := flag.NewFlagSet("certbot-hook flush", flag.ContinueOnError)
	fs.SetOutput(d.stderr)
	fs.Usage = func() { fmt.Fprint(d.stderr, usage) }
	configPath := fs.String("config", "", "settings file (default "+config.DefaultPath+" or $"+config.EnvConfig+")")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		d.logf("flush: unexpected argument %q", fs.Arg(0))
		return ExitUsage
	}
	cfg, err := config.LoadWithDefault(*configPath, d.defaultConfig, d.getenv)
	if err != nil {
		d.logf("%v", err)
		return ExitUsage
	}
	if cfg.URL == "" {
		d.logf("flush: no url is set in %s or %s: nowhere to deliver %s", configName(cfg), config.EnvName("url"), cfg.Spool)
		return ExitUsage
	}
	lctx, cancel := context.WithTimeout(ctx, lockTimeout)
	tx, err := spool.New(cfg.Spool).Lock(lctx)
	cancel()
	if err != nil {
		d.logf("%v", err)
		return ExitFailed
	}
	defer tx.Close()
	return flush(ctx, cfg, tx, d)
}
