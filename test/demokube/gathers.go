package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/parsers/influx"
)

// gather is everything one gather of the plugin produced, as Telegraf wrote it: the
// cert_expiry rows and the cert_expiry_discovery row, which share the gather's timestamp.
type gather struct {
	at        time.Time
	lines     []string // line protocol as written, discovery row first
	rows      []telegraf.Metric
	discovery telegraf.Metric
}

// complete reports whether every probe the discovery row announced has its row (Telegraf may
// flush a gather's rows in two writes).
func (g *gather) complete() bool {
	if g.discovery == nil {
		return false
	}
	probes, _ := g.discovery.GetField("probes")
	n, _ := probes.(int64)
	return int64(len(g.rows)) == n
}

func (g *gather) field(name string) any {
	if g.discovery == nil {
		return nil
	}
	v, _ := g.discovery.GetField(name)
	return v
}

// pods returns "namespace/pod" of every row, sorted, without repeats.
func (g *gather) pods() []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range g.rows {
		k := m.Tags()["namespace"] + "/" + m.Tags()["pod"]
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// outputReader follows the file Telegraf's outputs.file writes and groups its lines by gather.
type outputReader struct {
	path    string
	offset  int64
	partial []byte
	parser  *influx.Parser
	byTime  map[int64]*gather
	order   []int64
}

func newOutputReader(path string) (*outputReader, error) {
	p := &influx.Parser{}
	if err := p.Init(); err != nil {
		return nil, err
	}
	return &outputReader{path: path, parser: p, byTime: map[int64]*gather{}}, nil
}

// poll reads what was appended since the last call.
func (o *outputReader) poll() error {
	f, err := os.Open(o.path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(o.offset, io.SeekStart); err != nil {
		return err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	o.offset += int64(len(b))
	b = append(o.partial, b...)
	end := bytes.LastIndexByte(b, '\n')
	if end < 0 {
		o.partial = b
		return nil
	}
	o.partial = append([]byte(nil), b[end+1:]...)
	for _, line := range strings.Split(string(b[:end]), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := o.parser.ParseLine(line)
		if err != nil {
			return fmt.Errorf("telegraf wrote a line that is not line protocol: %q: %w", line, err)
		}
		ts := m.Time().UnixNano()
		g := o.byTime[ts]
		if g == nil {
			g = &gather{at: m.Time()}
			o.byTime[ts] = g
			o.order = append(o.order, ts)
		}
		switch m.Name() {
		case "cert_expiry_discovery":
			g.discovery = m
			g.lines = append([]string{line}, g.lines...)
		case "cert_expiry":
			g.rows = append(g.rows, m)
			g.lines = append(g.lines, line)
		}
	}
	return nil
}

// gathers returns the complete gathers so far, oldest first.
func (o *outputReader) gathers() []*gather {
	var out []*gather
	for _, ts := range o.order {
		if g := o.byTime[ts]; g.complete() {
			out = append(out, g)
		}
	}
	return out
}

// waitGather polls until a complete gather satisfying ok exists, and returns the first one.
// alive reports an error when something the demo depends on has died (Telegraf).
func (o *outputReader) waitGather(ctx context.Context, timeout time.Duration, alive func() error, ok func(*gather) bool) (*gather, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if err := o.poll(); err != nil {
			return nil, err
		}
		for _, g := range o.gathers() {
			if ok(g) {
				return g, nil
			}
		}
		if err := alive(); err != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return nil, fmt.Errorf("no matching gather within %s (%d complete so far)", timeout, len(o.gathers()))
			}
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// printRows prints a gather's rows as a table, one line per (pod, port, domain).
func printRows(w io.Writer, g *gather) {
	rows := append([]telegraf.Metric(nil), g.rows...)
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i].Tags(), rows[j].Tags()
		return a["namespace"]+"/"+a["pod"] < b["namespace"]+"/"+b["pod"]
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   NAMESPACE\tPOD\tNODE\tADDRESS\tDOMAIN\tSTATUS\tDAYS LEFT\tNOT AFTER\tVERIFIED")
	for _, m := range rows {
		t := m.Tags()
		days, notAfter, verified := "-", "-", "-"
		if e, ok := m.GetField("expiry"); ok {
			days = fmt.Sprintf("%.1f", float64(e.(int64))/86400)
		}
		if na, ok := m.GetField("not_after"); ok {
			notAfter = time.Unix(na.(int64), 0).UTC().Format("2006-01-02")
		}
		if v, ok := m.GetField("verified"); ok {
			verified = fmt.Sprint(v)
		}
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s:%s\t%s\t%s\t%s\t%s\t%s\n", t["namespace"], t["pod"], t["node"], t["address"], t["port"], t["domain"], t["status"], days, notAfter, verified)
	}
	tw.Flush()
}

// printDiscovery prints the discovery row's fields, in a stable order.
func printDiscovery(w io.Writer, g *gather) {
	fields := g.discovery.Fields()
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	order := map[string]int{"pods": 0, "targets": 1, "probes": 2, "domains": 3, "synced": 4, "api_requests": 5}
	sort.Slice(keys, func(i, j int) bool {
		oi, iok := order[keys[i]]
		oj, jok := order[keys[j]]
		switch {
		case iok && jok:
			return oi < oj
		case iok != jok:
			return iok
		}
		return keys[i] < keys[j]
	})
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, fields[k]))
	}
	fmt.Fprintf(w, "   cert_expiry_discovery %s\n", strings.Join(parts, " "))
}
