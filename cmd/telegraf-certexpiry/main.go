// Command telegraf-certexpiry is the certexpiry Telegraf input, run by Telegraf's
// [[inputs.execd]] through the execd shim, and the certbot deploy hook that reports renewals.
//
//	telegraf-certexpiry -config plugin.conf [-poll_interval 1s | -poll_interval_disabled] [-memory_limit_mib 32] [-debug]
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
	"runtime/debug"
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
  telegraf-certexpiry -config FILE [-poll_interval_disabled | -poll_interval D] [-memory_limit_mib N] [-debug]
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
	memLimit := fs.Int("memory_limit_mib", DefaultMemoryLimitMiB, "soft limit of the Go runtime's memory, in MiB (0: none); GOMEMLIMIT, when set, wins")
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
	if *memLimit < 0 {
		logError(stderr, "", fmt.Errorf("-memory_limit_mib: must be 0 (no limit) or more, got %d", *memLimit))
		return 2
	}
	applyMemoryLimit(os.Getenv, *memLimit)
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

// DefaultMemoryLimitMiB is the Go runtime's soft memory limit when neither GOMEMLIMIT nor
// -memory_limit_mib says otherwise. Without a limit the garbage collector lets the heap grow
// to twice what is live (GOGC=100) before collecting, whatever that costs; under the limit it
// collects earlier instead, only as the runtime's memory nears it. At 10,000 pods × 2 domains
// the runtime holds about 30 MiB in a gather (heap, stacks and its own bookkeeping, ≈ 15 MiB
// of it live) and the mapped binary 25 MiB more, so 32 MiB costs nothing there (same CPU per
// probe, same peak, in BENCHMARKS.md) and caps what a burst of allocation can add on top:
// the process stays under 64 MiB. Lower limits trade CPU for memory (24 MiB: 8 MiB less, 22 %
// more CPU per probe). The limit is soft: a larger live heap (many more pods per instance)
// goes over it and the process keeps working, its collector then running much of the time;
// raise the limit (or set GOMEMLIMIT) for such instances.
const DefaultMemoryLimitMiB = 32

// applyMemoryLimit sets the runtime's soft memory limit to mib MiB, unless GOMEMLIMIT is set
// (the runtime has applied it already and it wins) or mib is 0 (no limit).
func applyMemoryLimit(getenv func(string) string, mib int) {
	if getenv("GOMEMLIMIT") != "" || mib == 0 {
		return
	}
	debug.SetMemoryLimit(int64(mib) << 20)
}

// logError writes context+err for execd: every line prefixed "E! " so Telegraf logs it at
// error level.
func logError(w io.Writer, context string, err error) {
	for _, line := range strings.Split(context+err.Error(), "\n") {
		fmt.Fprintf(w, "E! %s\n", line)
	}
}
