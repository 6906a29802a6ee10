package main

import (
	"context"
	"encoding/json"
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
	"github.com/influxdata/telegraf/metric"
	"github.com/influxdata/telegraf/plugins/serializers/influx"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/duration"
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

// state is a monitoring-plugins result; its value is the exit code Nagios, Icinga, Sensu and
// friends read.
type state int

const (
	stateOK       state = 0
	stateWarning  state = 1
	stateCritical state = 2
	stateUnknown  state = 3
)

func (s state) String() string {
	return [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}[s]
}

// severity orders states for the overall result: CRITICAL, WARNING, UNKNOWN, OK — a probe
// known to be bad outweighs one that could not be judged.
func (s state) severity() int { return [...]int{0, 2, 3, 1}[s] }

// runCheck runs the plugin once — exactly what Telegraf would run, on the given hosts or on a
// plugin config file — judges every probe against the warning and critical thresholds and
// prints the result as a monitoring-plugins check: a one-line summary with perfdata, then a
// table (or JSON, or line protocol). Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
// (including usage and config errors).
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runCheckWith(ctx, args, stdout, stderr, checkOptions{now: time.Now})
}

func runCheckWith(ctx context.Context, args []string, stdout, stderr io.Writer, opts checkOptions) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: telegraf-certexpiry check [flags] host[:port]...
       telegraf-certexpiry check -config plugin.conf [flags]

Probes each host (port 443 unless given; IPv6 as [addr]:port) once per domain and judges what
is served. Without -domain, a host name is its own domain. With -config, probes what that
plugin configuration probes — static targets and Kubernetes pods — with its options.

A probe is CRITICAL when its certificate is expired, not yet valid, not for the domain, or
could not be read (unreachable, handshake failed, timeout), or when it expires within the
critical threshold; WARNING when it expires within the warning threshold or its chain does
not verify. Without -warning / -critical the thresholds follow each certificate's lifetime L:
WARNING once renewal is overdue, with L/4 left (L/3 when L < 10 days), CRITICAL with L/6 left.

Output: a one-line summary with perfdata (expiry in seconds per probe), then a table.
Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for usage and config errors).

Flags:
`)
		fs.PrintDefaults()
	}
	var domains stringList
	var warning, critical thresholdFlag
	fs.Var(&domains, "domain", "domain to send as SNI (repeatable)")
	configPath := fs.String("config", "", "plugin configuration to run once instead of host arguments")
	fs.Var(&warning, "warning", "WARNING when a certificate expires within this long, e.g. 21d, 36h (default: relative to its lifetime)")
	fs.Var(&critical, "critical", "CRITICAL when a certificate expires within this long, e.g. 7d (default: relative to its lifetime)")
	format := fs.String("format", "table", "output: table (summary line and table), json, or influx (the rows Telegraf would get, as line protocol)")
	timeout := fs.Duration("timeout", probe.DefaultTimeout, "bound on the dial and, separately, the handshake")
	// -tls-ca matches the plugin's tls_ca; -ca-file, its former name, stays as an alias.
	caFile := fs.String("tls-ca", "", "verify against this PEM bundle instead of the system roots")
	fs.StringVar(caFile, "ca-file", "", "former name of -tls-ca")
	tlsCert := fs.String("tls-cert", "", "client certificate (PEM) for mTLS backends")
	tlsKey := fs.String("tls-key", "", "client key (PEM) for mTLS backends")
	concurrency := fs.Int("concurrency", probe.DefaultConcurrency, "probes in flight at once")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return int(stateUnknown)
	}
	// A usage or config error is UNKNOWN: in table format it is the summary line a monitoring
	// system shows; in json and influx formats stdout stays parseable and it goes to stderr.
	usage := func(err error) int {
		if *format == "table" {
			fmt.Fprintf(stdout, "CERTEXPIRY UNKNOWN - %v\n", err)
		} else {
			fmt.Fprintf(stderr, "check: %v\n", err)
		}
		return int(stateUnknown)
	}
	switch *format {
	case "table", "json", "influx":
	default:
		err := fmt.Errorf("-format: %q is not one of table, json, influx", *format)
		*format = "table"
		return usage(err)
	}
	th := thresholds{warning: warning, critical: critical}
	if warning.set && critical.set && critical.d > warning.d {
		return usage(fmt.Errorf("-critical %s is longer than -warning %s: WARNING would never show", critical.text, warning.text))
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
	var probes []checked
	run, err := p.RunOnce(ctx, func(r probe.Result) {
		probes = append(probes, judge(&r, th, *format != "table"))
	})
	if err != nil {
		return usage(err)
	}
	res := summarize(probes, &run)
	switch *format {
	case "json":
		err = writeJSON(stdout, res, probes, &run)
	case "influx":
		err = writeInflux(stdout, probes, &run)
	default:
		fmt.Fprintln(stdout, res.line())
		printTable(stdout, probes)
	}
	if err != nil {
		fmt.Fprintf(stderr, "check: %v\n", err)
		return int(stateUnknown)
	}
	return int(res.state)
}

// thresholdFlag is a duration flag that also takes days: "21d", "36h", "7d12h".
type thresholdFlag struct {
	d    time.Duration
	text string
	set  bool
}

func (f *thresholdFlag) String() string { return f.text }

func (f *thresholdFlag) Set(s string) error {
	d, err := parseDays(s)
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not a duration: use a number with a unit, like 21d, 36h or 7d12h", s)
	}
	f.d, f.text, f.set = d, s, true
	return nil
}

// parseDays parses a Go duration with an optional leading whole number of days.
func parseDays(s string) (time.Duration, error) {
	days, rest, ok := strings.Cut(s, "d")
	if !ok {
		return time.ParseDuration(s)
	}
	n, err := strconv.ParseUint(days, 10, 16)
	if err != nil {
		return 0, err
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 {
			return 0, errors.New("bad duration")
		}
		d += r
	}
	return d, nil
}

// thresholds are -warning and -critical; each one left unset follows the certificate's
// lifetime.
type thresholds struct {
	warning, critical thresholdFlag
}

// tenDays is where the relative rule switches to the short-lifetime fractions, as certbot and
// Let's Encrypt's renewal window do: renewal is due with L/2 left below it, L/3 above.
const tenDays = 10 * 24 * time.Hour

// limits returns how much time left makes a certificate of the given lifetime WARNING and
// CRITICAL. Relative rule: renewal is due with L/3 left (L/2 under 10 days); WARNING once it
// is overdue by L/12 (L/6 under 10 days), i.e. with L/4 left (L/3); CRITICAL with L/6 left.
func (t thresholds) limits(lifetime time.Duration) (warn, crit time.Duration) {
	warn, crit = lifetime/4, lifetime/6
	if lifetime < tenDays {
		warn = lifetime / 3
	}
	if t.warning.set {
		warn = t.warning.d
	}
	if t.critical.set {
		crit = t.critical.d
	}
	return warn, crit
}

// checked is one probe, judged: what the table, the summary and the perfdata need, and the
// row itself for the json and influx formats. The probe's chain is not kept.
type checked struct {
	source, namespace, pod, address, domain string
	port                                    int
	status                                  probe.Status
	hasCert, verified                       bool
	notAfter                                time.Time
	left, lifetime                          time.Duration
	warn, crit                              time.Duration
	issuer                                  string
	detail                                  string // the probe's error, else why the chain does not verify
	state                                   state
	reason                                  string
	tags                                    map[string]string // with keepRow only
	fields                                  map[string]any    // with keepRow only
}

// judge turns one result into its check state and reason.
func judge(r *probe.Result, th thresholds, keepRow bool) checked {
	t := r.Probe.Target
	c := checked{source: t.Source, namespace: t.Namespace, pod: t.Pod, address: t.Address, domain: r.Probe.Domain,
		port: r.Probe.Port, status: r.Status, verified: r.Verified}
	if keepRow {
		c.tags, c.fields = plugin.ResultRow(r)
	}
	switch {
	case r.Err != nil:
		c.detail = r.Err.Error()
	case r.VerifyErr != nil:
		c.detail = r.VerifyErr.Error()
	}
	if leaf := r.Leaf(); leaf != nil {
		c.hasCert = true
		c.notAfter = leaf.NotAfter
		c.left = leaf.NotAfter.Sub(r.At)
		c.lifetime = leaf.NotAfter.Sub(leaf.NotBefore)
		c.warn, c.crit = th.limits(c.lifetime)
		c.issuer = commonName(leaf.Issuer.String())
	}
	switch r.Status {
	case probe.StatusValid:
		switch {
		case c.left <= c.crit:
			c.state, c.reason = stateCritical, "expires "+humanExpiry(c.left)+" "+c.threshold("critical", c.crit, th.critical.set)
		case c.left <= c.warn:
			c.state, c.reason = stateWarning, "expires "+humanExpiry(c.left)+" "+c.threshold("warning", c.warn, th.warning.set)
		case !r.Verified:
			c.state, c.reason = stateWarning, "chain does not verify: "+c.detail
		default:
			c.state, c.reason = stateOK, "expires "+humanExpiry(c.left)
		}
	case probe.StatusExpired:
		c.state, c.reason = stateCritical, humanExpiry(c.left)
	case probe.StatusNotYetValid:
		c.state, c.reason = stateCritical, "not valid before "+r.Leaf().NotBefore.UTC().Format("2006-01-02 15:04Z")
	default: // not_found, unreachable, handshake_failed, timeout
		c.state, c.reason = stateCritical, r.Status.String()
		if c.detail != "" {
			c.reason += ": " + c.detail
		}
	}
	return c
}

// threshold says which bound was crossed: "(warning at 22 days left: renewal overdue for a
// 90-day certificate)", or "(warning at 21 days left)" when set by flag.
func (c *checked) threshold(level string, bound time.Duration, fixed bool) string {
	if fixed {
		return "(" + level + " at " + humanSpan(bound) + " left)"
	}
	return "(" + level + " at " + humanSpan(bound) + " left: renewal overdue for a " + lifetimeText(c.lifetime) + " certificate)"
}

// name says which probe this is: "a.test at 127.0.0.1:443", or with the pod
// "a.test at shop/web-1 (10.0.0.7:443)".
func (c *checked) name() string {
	hp := net.JoinHostPort(c.address, strconv.Itoa(c.port))
	if c.pod != "" {
		return c.domain + " at " + c.namespace + "/" + c.pod + " (" + hp + ")"
	}
	return c.domain + " at " + hp
}

// result is the whole check: its state and the summary line's parts.
type result struct {
	state    state
	text     string
	perfdata []string
}

// line is the monitoring-plugins status line: "CERTEXPIRY STATE - text | perfdata".
func (r *result) line() string {
	s := "CERTEXPIRY " + r.state.String() + " - " + r.text
	if len(r.perfdata) > 0 {
		s += " | " + strings.Join(r.perfdata, " ")
	}
	return s
}

// summarize judges the whole run: the worst probe's state (and UNKNOWN when there was nothing
// to probe or Kubernetes discovery is not healthy), the counts per state, and the probe that
// matters most — the first of the worst state, or when all is well the soonest to expire.
func summarize(probes []checked, run *plugin.Run) result {
	res := result{state: stateOK}
	counts := map[state]int{}
	var worst, soonest *checked
	for i := range probes {
		c := &probes[i]
		counts[c.state]++
		if worst == nil || mattersMore(c, worst) {
			worst = c
		}
		if c.hasCert && (soonest == nil || c.left < soonest.left) {
			soonest = c
		}
		// A not_found probe's certificate is some other domain's: its expiry is not this one's.
		if c.hasCert && c.status != probe.StatusNotFound {
			res.perfdata = append(res.perfdata, perfdata(c))
		}
	}
	var parts []string
	for _, s := range []state{stateCritical, stateWarning, stateUnknown, stateOK} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], strings.ToLower(s.String())))
		}
	}
	switch {
	case len(probes) == 0:
		res.state, res.text = stateUnknown, "no probes: no targets found"
	case worst.state == stateOK && soonest != nil:
		res.text = fmt.Sprintf("%s: %s; soonest: %s %s", plural(int64(len(probes)), "probe"), strings.Join(parts, ", "), soonest.name(), soonest.reason)
	default:
		res.state = worst.state
		res.text = fmt.Sprintf("%s: %s; %s %s", plural(int64(len(probes)), "probe"), strings.Join(parts, ", "), worst.name(), worst.reason)
		if n := counts[worst.state] - 1; n > 0 && worst.state != stateOK {
			res.text += fmt.Sprintf(" (and %d more %s)", n, strings.ToLower(worst.state.String()))
		}
	}
	if d := run.Discovery; d != nil && (!d.Synced || d.Error != "") {
		problem := d.Error
		if problem == "" {
			problem = "pods not listed within sync_timeout"
		}
		res.text += "; kubernetes: " + problem
		if res.state.severity() < stateUnknown.severity() {
			res.state = stateUnknown
		}
	}
	return res
}

// mattersMore reports whether a should be named in the summary instead of b: a worse state;
// in the same state a failed probe before a valid certificate, then the one with less time left.
func mattersMore(a, b *checked) bool {
	if a.state != b.state {
		return a.state.severity() > b.state.severity()
	}
	if (a.status != probe.StatusValid) != (b.status != probe.StatusValid) {
		return a.status != probe.StatusValid
	}
	return a.hasCert && b.hasCert && a.left < b.left
}

// perfdata is one probe's expiry in seconds with its warning and critical bounds as
// monitoring-plugins ranges ("N:" alerts below N) and its lifetime as the maximum:
// 'a.test@127.0.0.1:443'=6930000s;1944000:;1296000:;;7775999
func perfdata(c *checked) string {
	label := c.domain + "@" + net.JoinHostPort(c.address, strconv.Itoa(c.port))
	if strings.ContainsAny(label, " '=") {
		label = "'" + strings.ReplaceAll(label, "'", "''") + "'"
	}
	secs := func(d time.Duration) int64 { return int64(d / time.Second) }
	return fmt.Sprintf("%s=%ds;%d:;%d:;;%d", label, secs(c.left), secs(c.warn), secs(c.crit), secs(c.lifetime))
}

// printTable writes one line per probe: its check state, where, what status, when the
// certificate ends, and why anything is wrong. A POD column appears when any probe is a pod.
func printTable(w io.Writer, probes []checked) {
	withPods := false
	for i := range probes {
		withPods = withPods || probes[i].pod != ""
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "ADDRESS\tPORT\tDOMAIN\tSTATUS\tEXPIRES\tNOT AFTER\tVERIFIED\tISSUER\tDETAIL"
	if withPods {
		header = "POD\t" + header
	}
	fmt.Fprintln(tw, "STATE\t"+header)
	for i := range probes {
		c := &probes[i]
		expires, notAfter, verified, issuer := "-", "-", "-", "-"
		if c.hasCert {
			expires = humanExpiry(c.left)
			notAfter = c.notAfter.UTC().Format("2006-01-02 15:04Z")
			verified = map[bool]string{true: "yes", false: "no"}[c.verified]
			issuer = c.issuer
		}
		line := fmt.Sprintf("%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s", c.address, c.port, c.domain, c.status, expires, notAfter, verified, issuer, c.detail)
		if withPods {
			pod := "-"
			if c.pod != "" {
				pod = c.namespace + "/" + c.pod
			}
			line = pod + "\t" + line
		}
		fmt.Fprintln(tw, c.state.String()+"\t"+line)
	}
	tw.Flush()
}

// jsonRow is a row in the shape of Telegraf's json serializer (name, tags, fields,
// timestamp in unix seconds), plus the probe's check state and reason.
type jsonRow struct {
	Name      string            `json:"name"`
	Tags      map[string]string `json:"tags"`
	Fields    map[string]any    `json:"fields"`
	Timestamp int64             `json:"timestamp"`
	State     string            `json:"state,omitempty"`
	Reason    string            `json:"reason,omitempty"`
}

// writeJSON writes the whole check as one JSON document:
// {"state", "exit_code", "summary", "probes": [rows], "discovery": row (with Kubernetes)}.
func writeJSON(w io.Writer, res result, probes []checked, run *plugin.Run) error {
	doc := struct {
		State     string    `json:"state"`
		ExitCode  int       `json:"exit_code"`
		Summary   string    `json:"summary"`
		Probes    []jsonRow `json:"probes"`
		Discovery *jsonRow  `json:"discovery,omitempty"`
	}{State: res.state.String(), ExitCode: int(res.state), Summary: res.text, Probes: []jsonRow{}}
	for i := range probes {
		c := &probes[i]
		doc.Probes = append(doc.Probes, jsonRow{Name: plugin.Measurement, Tags: c.tags, Fields: c.fields, Timestamp: run.At.Unix(), State: c.state.String(), Reason: c.reason})
	}
	if tags, fields, ok := run.DiscoveryRow(); ok {
		doc.Discovery = &jsonRow{Name: plugin.DiscoveryMeasurement, Tags: tags, Fields: fields, Timestamp: run.At.Unix()}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// writeInflux writes the rows one Gather would hand Telegraf, as line protocol, with
// Telegraf's own serializer.
func writeInflux(w io.Writer, probes []checked, run *plugin.Run) error {
	s := &influx.Serializer{SortFields: true}
	if err := s.Init(); err != nil {
		return err
	}
	write := func(name string, tags map[string]string, fields map[string]any) error {
		b, err := s.Serialize(metric.New(name, tags, fields, run.At))
		if err == nil {
			_, err = w.Write(b)
		}
		return err
	}
	if tags, fields, ok := run.DiscoveryRow(); ok {
		if err := write(plugin.DiscoveryMeasurement, tags, fields); err != nil {
			return err
		}
	}
	for i := range probes {
		if err := write(plugin.Measurement, probes[i].tags, probes[i].fields); err != nil {
			return err
		}
	}
	return nil
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

// inFlagTerms renames the plugin options in Init's errors to the flags that set them, so
// "timeout: must be positive" reads "-timeout: must be positive".
func inFlagTerms(err error) error {
	flagOf := map[option.Name]option.Name{
		"timeout": "-timeout", "tls_ca": "-tls-ca", "tls_cert": "-tls-cert", "tls_key": "-tls-key", "max_concurrency": "-concurrency",
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

// humanExpiry says when a certificate ends, seen from the probe: "in 80 days", "in 5 hours",
// "expired 9 days ago", "expired 40 minutes ago".
func humanExpiry(left time.Duration) string {
	if left < 0 {
		return "expired " + humanSpan(-left) + " ago"
	}
	return "in " + humanSpan(left)
}

// humanSpan rounds a duration down to the unit a person would use: whole days from three
// days on, whole hours from two hours on, else minutes ("53 hours" says more than "2 days"
// about a 160-hour certificate).
func humanSpan(d time.Duration) string {
	switch {
	case d >= 72*time.Hour:
		return plural(int64(d/(24*time.Hour)), "day")
	case d >= 2*time.Hour:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int64(d/time.Minute), "minute")
	}
	return "less than a minute"
}

// lifetimeText names a lifetime the way issuers do: "90-day", "160-hour" (under 10 days),
// rounded to the nearest unit, since Let's Encrypt's are one second short of whole days.
func lifetimeText(l time.Duration) string {
	if l < tenDays {
		return strconv.FormatInt(int64(l.Round(time.Hour)/time.Hour), 10) + "-hour"
	}
	return strconv.FormatInt(int64(l.Round(24*time.Hour)/(24*time.Hour)), 10) + "-day"
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}
