package hook

import (
	"context"
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

// Report is the deploy hook proper: it reports the renewal certbot describes in
// RENEWED_DOMAINS and RENEWED_LINEAGE, with the settings in configPath ("" for
// CERTEXPIRY_HOOK_CONFIG, then DefaultConfig); dryRun prints the points and changes nothing.
// Its order is what keeps a renewal: build the points, append them to the spool, and only
// then report a settings problem or deliver. When the points cannot be spooled and not
// delivered either, they are printed on stderr, which certbot keeps in its log.
func (d Env) Report(ctx context.Context, configPath string, dryRun bool) int {
	cfg, cfgErr := config.LoadWithDefault(configPath, d.DefaultConfig, d.Getenv)
	domains := renewal.ParseDomains(d.Getenv(EnvDomains))
	if len(domains) == 0 {
		if cfgErr != nil {
			d.Logf("%v", cfgErr)
		}
		d.Logf("%s is empty or unset: certbot sets it when it runs a deploy hook (to deliver the spool, run `telegraf-certexpiry certbot-hook flush`)", EnvDomains)
		return ExitUsage
	}
	code := ExitOK
	// Without settings: the encoder's default measurement, the host from the environment.
	r := renewal.Renewal{Host: d.Getenv(config.EnvName("host")), Domains: domains, Time: d.Now()}
	if cfg != nil {
		r.Measurement, r.Host, r.Tags = cfg.Measurement, cfg.Host, cfg.Tags
	}
	if r.Host == "" {
		var err error
		if r.Host, err = d.Hostname(); err != nil {
			if cfgErr != nil {
				d.Logf("%v", cfgErr)
			}
			d.Logf("host name: %v (set host in %s or %s)", err, configName(cfg), config.EnvName("host"))
			return ExitFailed
		}
	}
	// A renewal whose certificate cannot be read is still a renewal: report it without the
	// certificate's fields, and fail so that certbot's log shows the problem.
	if cert, err := lineage.ReadCert(d.Getenv(EnvLineage)); err != nil {
		d.Logf("%v; reporting the renewal without its certificate fields (validity, lifetime, serial, fingerprints)", err)
		code = ExitFailed
	} else {
		r.Cert = &cert
	}
	lines, err := renewal.Lines(r)
	if err != nil {
		if cfgErr != nil {
			d.Logf("%v", cfgErr)
		}
		d.Logf("%v", err)
		return ExitFailed
	}
	if cfg == nil && dryRun {
		d.Stdout.Write(lines)
		d.Logf("%v", cfgErr)
		d.Logf("dry run: with these settings a renewal would be spooled nowhere; its points would be printed on stderr")
		return ExitUsage
	}
	if cfg == nil {
		// Where to spool is itself in doubt (the settings file cannot be read or decoded, or
		// names an unknown key): keep the renewal in certbot's log instead.
		d.Logf("%v", cfgErr)
		d.notRecorded(lines, "the settings do not say for certain where to spool it; the points below use the default measurement and no extra tags")
		return ExitUsage
	}
	if dryRun {
		d.Stdout.Write(lines)
		if cfgErr != nil {
			d.Logf("%v", cfgErr)
			d.Logf("dry run: would append %d lines to %s, then refuse to deliver until the settings are fixed", countLines(lines), cfg.Spool)
			return ExitUsage
		}
		dest := "no url is set, so nothing would be sent (the certexpiry Telegraf input's certbot_spool option delivers the spool)"
		if cfg.URL != "" {
			dest = fmt.Sprintf("the spool would then be delivered to %s (api %s)", cfg.URL, cfg.API)
		}
		d.Logf("dry run: would append %d lines to %s; %s", countLines(lines), cfg.Spool, dest)
		return code
	}
	if cfgErr != nil {
		return spoolAndRefuse(ctx, cfg, cfgErr, lines, d)
	}
	return max(code, spoolAndDeliver(ctx, cfg, lines, d))
}

// lockAndAppend takes the spool's lock and appends lines; the caller closes the Tx.
func lockAndAppend(ctx context.Context, cfg *config.Config, lines []byte, d Env) (*spool.Tx, error) {
	lctx, cancel := context.WithTimeout(ctx, lockTimeout)
	tx, err := spool.New(cfg.Spool).Lock(lctx)
	cancel()
	if err != nil {
		return nil, err
	}
	torn, err := tx.Append(lines)
	if torn != nil {
		d.Logf("the spool ended in a line cut short by an earlier crash; moved it to %s: %q", tx.RejectedPath(), torn)
	}
	if err != nil {
		tx.Close()
		return nil, err
	}
	return tx, nil
}

// spoolAndRefuse keeps the renewal in the spool although the delivery settings are unusable,
// then refuses: `flush` delivers once they are fixed.
func spoolAndRefuse(ctx context.Context, cfg *config.Config, cfgErr error, lines []byte, d Env) int {
	tx, err := lockAndAppend(ctx, cfg, lines, d)
	d.Logf("%v", cfgErr)
	if err != nil {
		d.Logf("%v", err)
		d.notRecorded(lines, "the spool cannot take it and the delivery settings are unusable")
		return ExitUsage
	}
	tx.Close()
	d.Logf("spooled %d lines to %s, but delivered nothing: fix the settings above, then run `telegraf-certexpiry certbot-hook flush`", countLines(lines), cfg.Spool)
	return ExitUsage
}

// spoolAndDeliver appends lines to the spool, then delivers the whole spool.
func spoolAndDeliver(ctx context.Context, cfg *config.Config, lines []byte, d Env) int {
	tx, err := lockAndAppend(ctx, cfg, lines, d)
	if err != nil {
		// Could not spool: still try to deliver this renewal directly, then fail loudly.
		d.Logf("%v", err)
		if cfg.URL == "" {
			d.notRecorded(lines, "the spool cannot take it and no url is set")
			return ExitFailed
		}
		w, dest, werr := newWriter(cfg, d)
		if werr == nil {
			werr = w.Write(ctx, lines)
		}
		if werr != nil {
			d.Logf("%v", werr)
			d.notRecorded(lines, "neither the spool nor "+cfg.URL+" took it")
			return ExitFailed
		}
		d.Logf("wrote %d lines to %s without spooling", countLines(lines), dest)
		return ExitFailed
	}
	defer tx.Close()
	if cfg.URL == "" {
		d.Infof("spooled %d lines to %s; no url is set, so the certexpiry Telegraf input (certbot_spool) delivers them", countLines(lines), cfg.Spool)
		return ExitOK
	}
	return flush(ctx, cfg, tx, d)
}

// notRecorded says that a renewal was kept nowhere and prints its points on stderr, as they
// are, one per line: certbot keeps the hook's stderr in its log, and the lines can be written
// to InfluxDB by hand (curl --data-binary) once the cause is fixed.
func (d Env) notRecorded(lines []byte, why string) {
	d.Logf("the renewal was NOT recorded: %s. Its %d points follow, to be written by hand:", why, countLines(lines))
	d.Stderr.Write(lines)
}

func configName(c *config.Config) string {
	if c != nil && c.Path != "" {
		return c.Path
	}
	return config.DefaultPath
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
