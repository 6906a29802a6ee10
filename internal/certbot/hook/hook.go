// Package hook is the `telegraf-certexpiry certbot-hook` command: certbot's deploy hook that
// reports each renewal as certbot_renewal points, spooling them first so that none is lost.
//
//	certbot-hook [-config FILE] [--dry-run]   report RENEWED_DOMAINS / RENEWED_LINEAGE
//	certbot-hook flush [-config FILE]         deliver the spool now
//	certbot-hook install [--dir D] [--name N] [--config FILE] [--binary PATH] [--force]
//
// Exit codes: 0 done; 1 the renewal is safe in the spool but was not delivered, or it could not
// be spooled (then it was delivered directly, or printed on stderr), or the lineage certificate
// could not be read; 2 bad usage or settings (a renewal is still spooled first when the spool
// setting itself is sound).
package hook

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/config"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/writer"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailed  = 1
	ExitUsage   = 2
	lockTimeout = 5 * time.Minute // another hook run may be retrying a slow server
)

// deps is everything the command takes from the outside world, injected so tests can pin
// the clock and skip real sleeps.
type deps struct {
	getenv     func(string) string
	stdout     io.Writer
	stderr     io.Writer
	client     *http.Client
	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) error
	hostname   func() (string, error)
	executable func() (string, error)
	// defaultConfig is read when neither -config nor CERTEXPIRY_HOOK_CONFIG names a file.
	defaultConfig string
}

// Main runs the certbot-hook command. args are the arguments after "certbot-hook"; it returns
// the process exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return run(ctx, args, deps{
		getenv:     getenv,
		stdout:     stdout,
		stderr:     stderr,
		client:     &http.Client{}, // per-attempt timeouts come from the config
		now:        time.Now,
		sleep:      writer.Sleep,
		hostname:   os.Hostname,
		executable: os.Executable,

		defaultConfig: config.DefaultPath,
	})
}

func run(ctx context.Context, args []string, d deps) int {
	if len(args) > 0 {
		switch args[0] {
		case "flush":
			return runFlush(ctx, args[1:], d)
		case "install":
			return runInstall(args[1:], d)
		case "help", "-h", "-help", "--help":
			fmt.Fprint(d.stdout, usage)
			return ExitOK
		}
	}
	return runReport(ctx, args, d)
}

const usage = `Usage:
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

// logf reports a problem on stderr, which certbot logs as the hook's error output.
func (d deps) logf(format string, args ...any) { say(d.stderr, format, args...) }

// infof reports progress on stdout, which certbot logs as ordinary output: a successful run
// must not look like an error in certbot's log.
func (d deps) infof(format string, args ...any) { say(d.stdout, format, args...) }

func say(w io.Writer, format string, args ...any) {
	for _, line := range strings.Split(fmt.Sprintf(format, args...), "\n") {
		fmt.Fprintf(w, "certbot-hook: %s\n", line)
	}
}

// newWriter builds the configured destination, wrapped in retries.
func newWriter(c *config.Config, d deps) (writer.Writer, string, error) {
	var w *writer.HTTP
	var err error
	switch c.API {
	case config.APIv2:
		w, err = writer.NewV2(d.client, writer.V2Options{BaseURL: c.URL, Org: c.Org, Bucket: c.Bucket, Token: c.Token, Timeout: time.Duration(c.Timeout)})
	default:
		w, err = writer.NewV1(d.client, writer.V1Options{BaseURL: c.URL, Database: c.Database, RetentionPolicy: c.RetentionPolicy,
			Username: c.Username, Password: c.Password, QueryAuth: c.V1Auth == config.AuthQuery, Timeout: time.Duration(c.Timeout)})
	}
	if err != nil {
		return nil, "", err
	}
	return &writer.Retry{W: w, Retries: c.Retries, Backoff: time.Duration(c.RetryBackoff), Sleep: d.sleep,
		Log: func(m string) { d.logf("%s", m) }}, w.URL(), nil
}
