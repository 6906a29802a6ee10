package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/influxdata/telegraf/logger"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/duration"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/option"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/probe"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/shimlog"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/plugin"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// checkOptions are what `check` needs besides its arguments; tests inject the clock.
type checkOptions struct {
	now func() time.Time
}

// runCheck runs the plugin once — exactly what Telegraf would run, on the given hosts or on a
// plugin config file — and prints its rows as a table for a person at a terminal. Exit status:
// 0 when every probe is valid and verified, 1 when any is not, 2 for a usage or config error.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runCheckWith(ctx, args, stdout, stderr, checkOptions{now: time.Now})
}

func runCheckWith(ctx context.Context, args []string, stdout, stderr io.Writer, opts checkOptions) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: telegraf-certexpiry check [flags] host[:port]...
       telegraf-certexpiry check -config plugin.conf

Probes each host (port 443 unless given; IPv6 as [addr]:port) once per domain and prints what
is served. Without -domain, a host name is its own domain. With -config, probes what that
plugin configuration probes — static targets and Kubernetes pods — with its options.

Flags:
`)
		fs.PrintDefaults()
	}
	var domains stringList
	fs.Var(&domains, "domain", "domain to send as SNI (repeatable)")
	configPath := fs.String("config", "", "plugin configuration to run once instead of host arguments")
	timeout := fs.Duration("timeout", probe.DefaultTimeout, "bound on the dial and, separately, the handshake")
	caFile := fs.String("ca-file", "", "verify against this PEM bundle instead of the system roots")
	tlsCert := fs.String("tls-cert", "", "client certificate (PEM) for mTLS backends")
	tlsKey := fs.String("tls-key", "", "client key (PEM) for mTLS backends")
	concurrency := fs.Int("concurrency", probe.DefaultConcurrency, "probes in flight at once")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usage := func(err error) int {
		fmt.Fprintf(stderr, "check: %v\n", err)
		return 2
	}

	var p *plugin.CertExpiry
	if *configPath != "" {
		if fs.NArg() > 0 {
			return usage(errors.New("give either -config or host arguments, not both"))
		}
		var err error
		if p, err = plugin.LoadConfigFile(*configPath); err != nil {
			return usage(err)
		}
		// Gathering the certbot spool removes what it emits; a look must not consume renewals
		// that Telegraf should deliver.
		p.CertbotSpool = ""
	} else {
		if fs.NArg() == 0 {
			return usage(errors.New("no targets: give host[:port] arguments or -config"))
		}
		targets, err := parseCheckTargets(fs.Args(), domains)
		if err != nil {
			return usage(err)
		}
		p = plugin.New()
		p.Targets = targets
		p.Timeout = duration.Duration(*timeout)
		p.TLSCA, p.TLSCert, p.TLSKey = *caFile, *tlsCert, *tlsKey
		p.MaxConcurrency = *concurrency
	}
	// Discovery logs (API errors, "watching pods in …") go to stderr with their level.
	shimlog.Install(stderr, false)
	p.Log = logger.New("", "", "")
	p.SetClock(opts.now)
	if err := p.Init(); err != nil {
		if *configPath == "" {
			err = inFlagTerms(err)
		}
		return usage(err)
	}
	acc := &metrictest.Accumulator{}
	if err := p.Start(acc); err != nil {
		return usage(err)
	}
	err := p.Gather(acc)
	p.Stop()
	if err != nil {
		return usage(err)
	}
	for _, err := range acc.Errors() {
		fmt.Fprintf(stderr, "check: %v\n", err)
	}
	rows := acc.Measurement(plugin.Measurement)
	printTable(stdout, rows)
	if len(acc.Errors()) > 0 {
		return 1
	}
	for _, r := range rows {
		if r.Tags["status"] != probe.StatusValid.String() || r.Fields["verified"] != true {
			return 1
		}
	}
	return 0
}

// parseCheckTargets turns host[:port] arguments into static targets.
func parseCheckTargets(args []string, domains []string) ([]plugin.StaticTarget, error) {
	var out []plugin.StaticTarget
	for _, arg := range args {
		host, port := arg, 443
		if h, p, err := net.SplitHostPort(arg); err == nil {
			n, err := strconv.Atoi(p)
			if err != nil || !option.ValidPort(n) {
				return nil, fmt.Errorf("%q: port must be a number in %d-%d", arg, option.MinPort, option.MaxPort)
			}
			host, port = h, n
		} else if strings.HasPrefix(arg, "[") || strings.Count(arg, ":") == 1 {
			return nil, fmt.Errorf("%q: %v", arg, err)
		}
		if host == "" {
			return nil, fmt.Errorf("%q: missing host", arg)
		}
		ds := []string(domains)
		if len(ds) == 0 {
			if net.ParseIP(host) != nil {
				return nil, fmt.Errorf("%q is an IP address: name the domain to ask for with -domain", arg)
			}
			ds = []string{host}
		}
		out = append(out, plugin.StaticTarget{Address: host, Ports: []int{port}, Domains: ds})
	}
	return out, nil
}

// printTable writes one line per cert_expiry row: where, what status, when the certificate
// ends, and why anything is wrong. A POD column appears when any row comes from Kubernetes.
func printTable(w io.Writer, rows []metrictest.Row) {
	withPods := false
	for _, r := range rows {
		withPods = withPods || r.Tags["pod"] != ""
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "ADDRESS\tPORT\tDOMAIN\tSTATUS\tEXPIRES IN\tNOT AFTER\tVERIFIED\tISSUER\tDETAIL"
	if withPods {
		header = "POD\t" + header
	}
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		expiresIn, notAfter, verified, issuer := "-", "-", "-", "-"
		if e, ok := r.Fields["expiry"].(int64); ok {
			expiresIn = humanDuration(time.Duration(e) * time.Second)
		}
		if na, ok := r.Fields["not_after"].(int64); ok {
			notAfter = time.Unix(na, 0).UTC().Format("2006-01-02 15:04Z")
		}
		if v, ok := r.Fields["verified"].(bool); ok {
			verified = map[bool]string{true: "yes", false: "no"}[v]
		}
		if is, ok := r.Fields["issuer"].(string); ok {
			issuer = commonName(is)
		}
		detail, _ := r.Fields["error"].(string)
		if detail == "" {
			detail, _ = r.Fields["verification_error"].(string)
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s",
			r.Tags["address"], r.Tags["port"], r.Tags["domain"], r.Tags["status"], expiresIn, notAfter, verified, issuer, detail)
		if withPods {
			pod := "-"
			if r.Tags["pod"] != "" {
				pod = r.Tags["namespace"] + "/" + r.Tags["pod"]
			}
			line = pod + "\t" + line
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}

// inFlagTerms renames the plugin options in Init's errors to the flags that set them, so
// "timeout: must be positive" reads "-timeout: must be positive".
func inFlagTerms(err error) error {
	flagOf := map[option.Name]option.Name{
		"timeout": "-timeout", "tls_ca": "-ca-file", "tls_cert": "-tls-cert", "tls_key": "-tls-key", "max_concurrency": "-concurrency",
	}
	return option.Rename(err, func(n option.Name) option.Name {
		if f, ok := flagOf[n]; ok {
			return f
		}
		return n
	})
}

// commonName returns the CN of a distinguished name like "CN=R11,O=Let's Encrypt,C=US", or
// the whole name when it has none.
func commonName(dn string) string {
	for _, part := range strings.Split(dn, ",") {
		if cn, ok := strings.CutPrefix(part, "CN="); ok {
			return cn
		}
	}
	return dn
}

// humanDuration prints whole days and hours, negative once past: "79d 23h", "-2d 0h", "-1h".
func humanDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	days := d / (24 * time.Hour)
	hours := (d % (24 * time.Hour)) / time.Hour
	if days == 0 {
		return fmt.Sprintf("%s%dh", sign, hours)
	}
	return fmt.Sprintf("%s%dd %dh", sign, days, hours)
}
