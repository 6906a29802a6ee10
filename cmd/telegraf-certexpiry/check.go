package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/probe"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// checkOptions are what `check` needs besides its arguments; tests inject the clock.
type checkOptions struct {
	now func() time.Time
}

// runCheck probes the given targets once with the plugin's engine and prints a table for a
// person at a terminal. Exit status: 0 when every probe is valid and verified, 1 when any is
// not, 2 for a usage error.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runCheckWith(ctx, args, stdout, stderr, checkOptions{now: time.Now})
}

func runCheckWith(ctx context.Context, args []string, stdout, stderr io.Writer, opts checkOptions) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: telegraf-certexpiry check [flags] host[:port]...

Probes each host (port 443 unless given; IPv6 as [addr]:port) once per domain and prints what
is served. Without -domain, a host name is its own domain.

Flags:
`)
		fs.PrintDefaults()
	}
	var domains stringList
	fs.Var(&domains, "domain", "domain to send as SNI (repeatable)")
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
	if fs.NArg() == 0 {
		return usage(errors.New("no targets: give host[:port] arguments"))
	}
	if *timeout <= 0 {
		return usage(fmt.Errorf("-timeout must be positive, got %s", *timeout))
	}
	targets, err := parseCheckTargets(fs.Args(), domains)
	if err != nil {
		return usage(err)
	}
	cfg := probe.Config{Timeout: *timeout, Now: opts.now}
	if *caFile != "" {
		pemBytes, err := os.ReadFile(*caFile)
		if err != nil {
			return usage(fmt.Errorf("-ca-file: %w", err))
		}
		cfg.Roots = x509.NewCertPool()
		if !cfg.Roots.AppendCertsFromPEM(pemBytes) {
			return usage(fmt.Errorf("-ca-file: %s holds no PEM certificate", *caFile))
		}
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return usage(errors.New("-tls-cert and -tls-key go together"))
	}
	if *tlsCert != "" {
		pair, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return usage(fmt.Errorf("-tls-cert: %w", err))
		}
		cfg.ClientCertificates = []tls.Certificate{pair}
	}
	results := probe.New(cfg).Run(ctx, target.Expand(targets), *concurrency)
	printTable(stdout, results)
	for _, r := range results {
		if r.Status != probe.StatusValid || !r.Verified {
			return 1
		}
	}
	return 0
}

// parseCheckTargets turns host[:port] arguments into targets.
func parseCheckTargets(args []string, domains []string) ([]target.Target, error) {
	var out []target.Target
	for _, arg := range args {
		host, port := arg, 443
		if h, p, err := net.SplitHostPort(arg); err == nil {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("%q: port must be a number in 1-65535", arg)
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
		out = append(out, target.Target{Source: target.SourceStatic, Address: host, Ports: []int{port}, Domains: ds})
	}
	return out, nil
}

// printTable writes one line per probe: where, what status, when the certificate ends, and why
// anything is wrong.
func printTable(w io.Writer, results []probe.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tPORT\tDOMAIN\tSTATUS\tEXPIRES IN\tNOT AFTER\tVERIFIED\tISSUER\tDETAIL")
	for _, r := range results {
		expiresIn, notAfter, verified, issuer := "-", "-", "-", "-"
		if leaf := r.Leaf(); leaf != nil {
			expiresIn = humanDuration(leaf.NotAfter.Sub(r.At))
			notAfter = leaf.NotAfter.UTC().Format("2006-01-02 15:04Z")
			verified = "yes"
			if !r.Verified {
				verified = "no"
			}
			issuer = leaf.Issuer.CommonName
			if issuer == "" {
				issuer = leaf.Issuer.String()
			}
		}
		detail := ""
		switch {
		case r.Err != nil:
			detail = r.Err.Error()
		case r.VerifyErr != nil:
			detail = r.VerifyErr.Error()
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.Probe.Target.Address, r.Probe.Port, r.Probe.Domain, r.Status, expiresIn, notAfter, verified, issuer, detail)
	}
	tw.Flush()
}

// humanDuration prints whole days and hours, negative once past: "79d 23h", "-2d 0h".
func humanDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	days := d / (24 * time.Hour)
	hours := (d % (24 * time.Hour)) / time.Hour
	return fmt.Sprintf("%s%dd %dh", sign, days, hours)
}
