// Command telegraf-certexpiry is the certexpiry Telegraf input, run by Telegraf's
// [[inputs.execd]] through the execd shim, and the certbot deploy hook that reports renewals.
//
//	telegraf-certexpiry -config plugin.conf [-poll_interval 1s | -poll_interval_disabled] [-debug]
//	telegraf-certexpiry check [flags] host[:port]...
//	telegraf-certexpiry certbot-hook [...]
//	telegraf-certexpiry install-binary DIR
//	telegraf-certexpiry -version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/influxdata/telegraf/plugins/common/shim"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/hook"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/shimlog"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/plugin"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "check":
			return runCheck(ctx, args[1:], stdout, stderr)
		case "certbot-hook":
			return certbotHook{env: hook.NewEnv(os.Getenv, stdout, stderr), executable: os.Executable}.run(ctx, args[1:])
		case "install-binary":
			return runInstallBinary(args[1:], stdout, stderr)
		case "version":
			return printVersion(stdout)
		}
	}
	return runShim(args, stdout, stderr)
}

func printVersion(w io.Writer) int {
	fmt.Fprintf(w, "telegraf-certexpiry %s (%s)\n", version, runtime.Version())
	return 0
}

// minPollInterval is the shortest -poll_interval accepted.
const minPollInterval = time.Second

// runShim runs the plugin under Telegraf's execd shim: metrics go to stdout as line protocol,
// logs to stderr with execd's level prefixes.
func runShim(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("telegraf-certexpiry", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage:
  telegraf-certexpiry -config FILE [-poll_interval_disabled | -poll_interval D] [-debug]
      run as a Telegraf input under [[inputs.execd]] (line protocol on stdout)
  telegraf-certexpiry check [flags] host[:port]...
      probe certificates once and judge them, as a monitoring-plugins check (see "check -h")
  telegraf-certexpiry certbot-hook [...]
      report certbot renewals (see "certbot-hook -h")
  telegraf-certexpiry install-binary DIR
      copy this binary into DIR (an init container's shared volume)
  telegraf-certexpiry -version

Flags:
`)
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "plugin configuration file with one [[inputs.certexpiry]] block (required)")
	// The shim's examples default to 1 s; probing every backend each second would be abuse, so
	// a forgotten flag costs one gather a minute instead.
	pollInterval := fs.Duration("poll_interval", time.Minute, "gather this often on our own, at least 1s; with execd's signal = \"STDIN\" use -poll_interval_disabled instead")
	pollDisabled := fs.Bool("poll_interval_disabled", false, "gather only when Telegraf asks (execd signal = \"STDIN\")")
	debug := fs.Bool("debug", false, "log debug lines")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *showVersion {
		return printVersion(stdout)
	}
	if fs.NArg() > 0 {
		logError(stderr, "", fmt.Errorf("unexpected argument %q (subcommands: check, certbot-hook)", fs.Arg(0)))
		return 2
	}
	shimlog.Install(stderr, *debug)
	// The shim hands the interval to time.NewTicker, which panics on zero or less; below a
	// second every backend would be probed many times a second.
	if *pollInterval < minPollInterval {
		logError(stderr, "", fmt.Errorf("-poll_interval: must be at least %s, got %s (with execd's signal = \"STDIN\" use -poll_interval_disabled instead)", minPollInterval, *pollInterval))
		return 2
	}
	if *configPath == "" {
		logError(stderr, "", errors.New("-config is required: the plugin configuration file with one [[inputs.certexpiry]] block"))
		return 2
	}
	// Load the config ourselves: the shim would silently ignore unknown options.
	p, err := plugin.LoadConfigFile(*configPath)
	if err != nil {
		logError(stderr, "Err loading input: ", err)
		return 1
	}
	s := shim.New()
	if err := s.AddInput(p); err != nil {
		logError(stderr, "Err loading input: ", err)
		return 1
	}
	if *pollDisabled {
		*pollInterval = shim.PollIntervalDisabled
	}
	if err := s.Run(*pollInterval); err != nil {
		logError(stderr, "", err)
		return 1
	}
	return 0
}

// logError writes context+err for execd: every line prefixed "E! " so Telegraf logs it at
// error level.
func logError(w io.Writer, context string, err error) {
	for _, line := range strings.Split(context+err.Error(), "\n") {
		fmt.Fprintf(w, "E! %s\n", line)
	}
}
