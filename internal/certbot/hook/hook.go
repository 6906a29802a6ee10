// Package hook is what the certbot deploy hook does: report one renewal as certbot_renewal
// points, appending them to the spool first so that none is lost, and deliver the spool. The
// command line that calls it (flags, usage, `install`) is cmd/telegraf-certexpiry/certbothook.go.
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

// Env is everything the hook takes from the outside world, injected so tests can pin the
// clock and skip real sleeps. NewEnv gives the real one.
type Env struct {
	Getenv   func(string) string
	Stdout   io.Writer
	Stderr   io.Writer
	Client   *http.Client
	Now      func() time.Time
	Sleep    func(ctx context.Context, d time.Duration) error
	Hostname func() (string, error)
	// DefaultConfig is read when neither -config nor CERTEXPIRY_HOOK_CONFIG names a file.
	DefaultConfig string
}

// NewEnv is the process's own environment: the real clock, host name and HTTP client (the
// per-attempt timeouts come from the settings), and config.DefaultPath.
func NewEnv(getenv func(string) string, stdout, stderr io.Writer) Env {
	return Env{
		Getenv:        getenv,
		Stdout:        stdout,
		Stderr:        stderr,
		Client:        &http.Client{},
		Now:           time.Now,
		Sleep:         writer.Sleep,
		Hostname:      os.Hostname,
		DefaultConfig: config.DefaultPath,
	}
}

// Logf reports a problem on stderr, which certbot logs as the hook's error output.
func (d Env) Logf(format string, args ...any) { say(d.Stderr, format, args...) }

// Infof reports progress on stdout, which certbot logs as ordinary output: a successful run
// must not look like an error in certbot's log.
func (d Env) Infof(format string, args ...any) { say(d.Stdout, format, args...) }

func say(w io.Writer, format string, args ...any) {
	for _, line := range strings.Split(fmt.Sprintf(format, args...), "\n") {
		fmt.Fprintf(w, "certbot-hook: %s\n", line)
	}
}

// newWriter builds the configured destination, wrapped in retries.
func newWriter(c *config.Config, d Env) (writer.Writer, string, error) {
	var w *writer.HTTP
	var err error
	switch c.API {
	case config.APIv2:
		w, err = writer.NewV2(d.Client, writer.V2Options{BaseURL: c.URL, Org: c.Org, Bucket: c.Bucket, Token: c.Token, Timeout: time.Duration(c.Timeout)})
	default:
		w, err = writer.NewV1(d.Client, writer.V1Options{BaseURL: c.URL, Database: c.Database, RetentionPolicy: c.RetentionPolicy,
			Username: c.Username, Password: c.Password, QueryAuth: c.V1Auth == config.AuthQuery, Timeout: time.Duration(c.Timeout)})
	}
	if err != nil {
		return nil, "", err
	}
	return &writer.Retry{W: w, Retries: c.Retries, Backoff: time.Duration(c.RetryBackoff), Sleep: d.Sleep,
		Log: func(m string) { d.Logf("%s", m) }}, w.URL(), nil
}
