package hook

import (
	"context"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/config"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/spool"
)

// Flush delivers the spool now, with the settings in configPath ("" for CERTEXPIRY_HOOK_CONFIG
// or DefaultConfig). Without a url there is nowhere to deliver: exit 2.
func (d Env) Flush(ctx context.Context, configPath string) int {
	cfg, err := config.LoadWithDefault(configPath, d.DefaultConfig, d.Getenv)
	if err != nil {
		d.Logf("%v", err)
		return ExitUsage
	}
	if cfg.URL == "" {
		d.Logf("flush: no url is set in %s or %s: nowhere to deliver %s", configName(cfg), config.EnvName("url"), cfg.Spool)
		return ExitUsage
	}
	lctx, cancel := context.WithTimeout(ctx, lockTimeout)
	tx, err := spool.New(cfg.Spool).Lock(lctx)
	cancel()
	if err != nil {
		d.Logf("%v", err)
		return ExitFailed
	}
	defer tx.Close()
	return flush(ctx, cfg, tx, d)
}

// flush delivers the locked spool and reports the outcome.
func flush(ctx context.Context, cfg *config.Config, tx *spool.Tx, d Env) int {
	w, dest, err := newWriter(cfg, d)
	if err != nil {
		d.Logf("%v", err)
		return ExitUsage
	}
	res, err := tx.Drain(ctx, cfg.BatchSize, func(ctx context.Context, lines [][]byte) error {
		return w.Write(ctx, join(lines))
	})
	if res.Delivered > 0 || err == nil {
		d.Infof("delivered %d lines to %s", res.Delivered, dest)
	}
	if err != nil {
		d.Logf("%v", err)
		if res.Remaining > 0 {
			d.Logf("%d lines stay in %s for the next run (or `telegraf-certexpiry certbot-hook flush`)", res.Remaining, cfg.Spool)
		}
		return ExitFailed
	}
	return ExitOK
}

// join makes a request body: each line followed by its newline.
func join(lines [][]byte) []byte {
	var b []byte
	for _, l := range lines {
		b = append(append(b, l...), '\n')
	}
	return b
}
