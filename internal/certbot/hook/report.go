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

// runReport is the deploy hook proper. Its order is what keeps a renewal: build the points,
// append them to the spool, and only then report a settings problem or deliver. When the
// points cannot be spooled and not delivered either, they are printed on stderr, which
// certbot keeps in its log.
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
	cfg, cfgErr := config.LoadWithDefault(*configPath, d.defaultConfig, d.getenv)
	domains := renewal.ParseDomains(d.getenv(EnvDomains))
	if len(domains) == 0 {
		if cfgErr != nil {
			d.logf("%v", cfgErr)
		}
		d.logf("%s is empty or unset: certbot sets it when it runs a deploy hook (to deliver the spool, run `telegraf-certexpiry certbot-hook flush`)", EnvDomains)
		return ExitUsage
	}
	code := ExitOK
	// Without settings: the encoder's default measurement, the host from the environment.
	r := renewal.Renewal{Host: d.getenv(config.EnvName("host")), Domains: domains, Time: d.now()}
	if cfg != nil {
		r.Measurement, r.Host, r.Tags = cfg.Measurement, cfg.Host, cfg.Tags
	}
	if r.Host == "" {
		var err error
		if r.Host, err = d.hostname(); err != nil {
			if cfgErr != nil {
				d.logf("%v", cfgErr)
			}
			d.logf("host name: %v (set host in %s or %s)", err, configName(cfg), config.EnvName("host"))
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
		if cfgErr != nil {
			d.logf("%v", cfgErr)
		}
		d.logf("%v", err)
		return ExitFailed
	}
	if cfg == nil && *dryRun {
		d.stdout.Write(lines)
		d.logf("%v", cfgErr)
		d.logf("dry run: with these settings a renewal would be spooled nowhere; its points would be printed on stderr")
		return ExitUsage
	}
	if cfg == nil {
		// Where to spool is itself in doubt (the settings file cannot be read or decoded, or
		// names an unknown key): keep the renewal in certbot's log instead.
		d.logf("%v", cfgErr)
		d.notRecorded(lines, "the settings do not say for certain where to spool it; the points below use the default measurement and no extra tags")
		return ExitUsage
	}
	if *dryRun {
		d.stdout.Write(lines)
		if cfgErr != nil {
			d.logf("%v", cfgErr)
			d.logf("dry run: would append %d lines to %s, then refuse to deliver until the settings are fixed", countLines(lines), cfg.Spool)
			return ExitUsage
		}
		dest := "no url is set, so nothing would be sent (the certexpiry Telegraf input's certbot_spool option delivers the spool)"
		if cfg.URL != "" {
			dest = fmt.Sprintf("the spool would then be delivered to %s (api %s)", cfg.URL, cfg.API)
		}
		d.logf("dry run: would append %d lines to %s; %s", countLines(lines), cfg.Spool, dest)
		return code
	}
	if cfgErr != nil {
		return spoolAndRefuse(ctx, cfg, cfgErr, lines, d)
	}
	return max(code, spoolAndDeliver(ctx, cfg, lines, d))
}

// lockAndAppend takes the spool's lock and appends lines; the caller closes the Tx.
func lockAndAppend(ctx context.Context, cfg *config.Config, lines []byte, d deps) (*spool.Tx, error) {
	lctx, cancel := context.WithTimeout(ctx, lockTimeout)
	tx, err := spool.New(cfg.Spool).Lock(lctx)
	cancel()
	if err != nil {
		return nil, err
	}
	torn, err := tx.Append(lines)
	if torn != nil {
		d.logf("the spool ended in a line cut short by an earlier crash; moved it to %s: %q", tx.RejectedPath(), torn)
	}
	if err != nil {
		tx.Close()
		return nil, err
	}
	return tx, nil
}

// spoolAndRefuse keeps the renewal in the spool although the delivery settings are unusable,
// then refuses: `flush` delivers once they are fixed.
func spoolAndRefuse(ctx context.Context, cfg *config.Config, cfgErr error, lines []byte, d deps) int {
	tx, err := lockAndAppend(ctx, cfg, lines, d)
	d.logf("%v", cfgErr)
	if err != nil {
		d.logf("%v", err)
		d.notRecorded(lines, "the spool cannot take it and the delivery settings are unusable")
		return ExitUsage
	}
	tx.Close()
	d.logf("spooled %d lines to %s, but delivered nothing: fix the settings above, then run `telegraf-certexpiry certbot-hook flush`", countLines(lines), cfg.Spool)
	return ExitUsage
}

// spoolAndDeliver appends lines to the spool, then delivers the whole spool.
func spoolAndDeliver(ctx context.Context, cfg *config.Config, lines []byte, d deps) int {
	tx, err := lockAndAppend(ctx, cfg, lines, d)
	if err != nil {
		// Could not spool: still try to deliver this renewal directly, then fail loudly.
		d.logf("%v", err)
		if cfg.URL == "" {
			d.notRecorded(lines, "the spool cannot take it and no url is set")
			return ExitFailed
		}
		w, dest, werr := newWriter(cfg, d)
		if werr == nil {
			werr = w.Write(ctx, lines)
		}
		if werr != nil {
			d.logf("%v", werr)
			d.notRecorded(lines, "neither the spool nor "+cfg.URL+" took it")
			return ExitFailed
		}
		d.logf("wrote %d lines to %s without spooling", countLines(lines), dest)
		return ExitFailed
	}
	defer tx.Close()
	if cfg.URL == "" {
		d.infof("spooled %d lines to %s; no url is set, so the certexpiry Telegraf input (certbot_spool) delivers them", countLines(lines), cfg.Spool)
		return ExitOK
	}
	return flush(ctx, cfg, tx, d)
}

// notRecorded says that a renewal was kept nowhere and prints its points on stderr, as they
// are, one per line: certbot keeps the hook's stderr in its log, and the lines can be written
// to InfluxDB by hand (curl --data-binary) once the cause is fixed.
func (d deps) notRecorded(lines []byte, why string) {
	d.logf("the renewal was NOT recorded: %s. Its %d points follow, to be written by hand:", why, countLines(lines))
	d.stderr.Write(lines)
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
	if c != nil && c.Path != "" {
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
