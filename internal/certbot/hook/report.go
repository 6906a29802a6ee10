package hook

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/config"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/lineage"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/renewal"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/spool"
)

// Environment variables certbot sets for deploy hooks.
const (
	EnvDomains = "RENEWED_DOMAINS"
	EnvLineage = "RENEWED_LINEAGE"
)

// runReport is the deploy hook proper.
func runReport(ctx context.Context, args []string, d deps) int {
	fs := flag.NewFlagSet("certbot-hook", flag.ContinueOnError)
	fs.SetOutput(d.stderr)
	fs.Usage = func() { fmt.Fprint(d.stderr, usage) }
	configPath := fs.String("config", "", "settings file (default "+config.DefaultPath+" or $"+config.EnvConfig+")")
	dryRun := fs.Bool("dry-run", false, "print the lines that would be written; spool and send nothing")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		d.logf("unexpected argument %q (subcommands: flush, install)", fs.Arg(0))
		return ExitUsage
	}
	cfg, err := config.Load(*configPath, d.getenv)
	if err != nil {
		d.logf("%v", err)
		return ExitUsage
	}
	domains := renewal.ParseDomains(d.getenv(EnvDomains))
	if len(domains) == 0 {
		d.logf("%s is empty or unset: certbot sets it when it runs a deploy hook (to deliver the spool, run `telegraf-certexpiry certbot-hook flush`)", EnvDomains)
		return ExitUsage
	}
	code := ExitOK
	r := renewal.Renewal{Measurement: cfg.Measurement, Host: cfg.Host, Domains: domains, Tags: cfg.Tags, Time: d.now()}
	if r.Host == "" {
		if r.Host, err = d.hostname(); err != nil {
			d.logf("host name: %v (set host in %s)", err, configName(cfg))
			return ExitFailed
		}
	}
	// A renewal whose certificate cannot be read is still a renewal: report it without the
	// certificate's fields, and fail so that certbot's log shows the problem.
	if cert, err := lineage.ReadCert(d.getenv(EnvLineage)); err != nil {
		d.logf("%v; reporting the renewal without not_before, not_after and lifetime", err)
		code = ExitFailed
	} else {
		r.Cert = &cert
	}
	lines, err := renewal.Lines(r)
	if err != nil {
		d.logf("%v", err)
		return ExitFailed
	}
	if *dryRun {
		d.stdout.Write(lines)
		dest := "no url is set, so nothing would be sent (the certexpiry Telegraf input's certbot_spool option delivers the spool)"
		if cfg.URL != "" {
			dest = fmt.Sprintf("the spool would then be delivered to %s (api %s)", cfg.URL, cfg.API)
		}
		d.logf("dry run: would append %d lines to %s; %s", countLines(lines), cfg.Spool, dest)
		return code
	}
	return max(code, spoolAndDeliver(ctx, cfg, lines, d))
}

// spoolAndDeliver appends lines to the spool, then delivers the whole spool.
func spoolAndDeliver(ctx context.Context, cfg *config.Config, lines []byte, d deps) int {
	lctx, cancel := context.WithTimeout(ctx, lockTimeout)
	tx, err := spool.New(cfg.Spool).Lock(lctx)
	cancel()
	if err == nil {
		defer tx.Close()
		var torn []byte
		torn, err = tx.Append(lines)
		if torn != nil {
			d.logf("the spool ended in a line cut short by an earlier crash; moved it to %s: %q", tx.RejectedPath(), torn)
		}
	}
	if err != nil {
		// Could not spool: still try to deliver this renewal directly, then fail loudly.
		d.logf("%v", err)
		if cfg.URL == "" {
			d.logf("the renewal was NOT recorded: fix the spool, or set url")
			return ExitFailed
		}
		w, dest, werr := newWriter(cfg, d)
		if werr == nil {
			werr = w.Write(ctx, lines)
		}
		if werr != nil {
			d.logf("the renewal was NOT recorded: %v", werr)
			return ExitFailed
		}
		d.logf("wrote %d lines to %s without spooling", countLines(lines), dest)
		return ExitFailed
	}
	if cfg.URL == "" {
		d.infof("spooled %d lines to %s; no url is set, so the certexpiry Telegraf input (certbot_spool) delivers them", countLines(lines), cfg.Spool)
		return ExitOK
	}
	return flush(ctx, cfg, tx, d)
}

// flush delivers the locked spool and reports the outcome.
func flush(ctx context.Context, cfg *config.Config, tx *spool.Tx, d deps) int {
	w, dest, err := newWriter(cfg, d)
	if err != nil {
		d.logf("%v", err)
		return ExitUsage
	}
	res, err := tx.Drain(ctx, cfg.BatchSize, func(ctx context.Context, lines [][]byte) error {
		return w.Write(ctx, join(lines))
	})
	if res.Delivered > 0 || err == nil {
		d.infof("delivered %d lines to %s", res.Delivered, dest)
	}
	if err != nil {
		d.logf("%v", err)
		if res.Remaining > 0 {
			d.logf("%d lines stay in %s for the next run (or `telegraf-certexpiry certbot-hook flush`)", res.Remaining, cfg.Spool)
		}
		return ExitFailed
	}
	return ExitOK
}

func configName(c *config.Config) string {
	if c.Path != "" {
		return c.Path
	}
	return config.DefaultPath
}

// join makes a request body: each line followed by its newline.
func join(lines [][]byte) []byte {
	var b []byte
	for _, l := range lines {
		b = append(append(b, l...), '\n')
	}
	return b
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}
