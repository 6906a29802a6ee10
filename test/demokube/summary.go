package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/influxdata/telegraf"
)

// finding names a bad replica and says what is wrong with it.
type finding struct {
	Replica string // namespace/pod
	Reason  string
}

// findBad names the bad replicas of one gather:
//   - a status other than valid (expired, not_found, unreachable, ...), or a chain that does
//     not verify, is bad on its own (what the status alert fires on);
//   - a replica serving a certificate that ends earlier than the newest one its siblings serve
//     for the same domain (same namespace) kept the previous certificate after a renewal: its
//     status is valid, yet it is the certificate nobody reloaded. (In production the stale
//     check compares the served side with the renewal records; the demo has none, so it
//     compares the replicas with each other.)
//
// A replica appears once, under its first reason; findings are sorted by replica.
func findBad(rows []telegraf.Metric) []finding {
	type group struct{ ns, domain string }
	newest := map[group]int64{}
	for _, m := range rows {
		if m.Tags()["status"] != "valid" {
			continue
		}
		g := group{m.Tags()["namespace"], m.Tags()["domain"]}
		if na, ok := m.GetField("not_after"); ok && na.(int64) > newest[g] {
			newest[g] = na.(int64)
		}
	}
	seen := map[string]bool{}
	var out []finding
	add := func(m telegraf.Metric, reason string) {
		k := m.Tags()["namespace"] + "/" + m.Tags()["pod"]
		if !seen[k] {
			seen[k] = true
			out = append(out, finding{Replica: k, Reason: reason})
		}
	}
	for _, m := range rows {
		t := m.Tags()
		na, hasCert := m.GetField("not_after")
		switch {
		case t["status"] == "expired":
			add(m, fmt.Sprintf("serves an expired certificate for %s (expired %s ago, not after %s)",
				t["domain"], days(-fieldInt(m, "expiry")), date(na)))
		case t["status"] != "valid":
			add(m, fmt.Sprintf("status %s for %s: %v", t["status"], t["domain"], firstOf(m, "error", "verification_error")))
		case !fieldBool(m, "verified"):
			add(m, fmt.Sprintf("certificate for %s does not verify: %v", t["domain"], firstOf(m, "verification_error")))
		case hasCert && na.(int64) < newest[group{t["namespace"], t["domain"]}]:
			add(m, fmt.Sprintf("still serves the previous certificate for %s (not after %s, %s left, serial %v) after a renewal: its siblings serve one valid until %s",
				t["domain"], date(na), days(fieldInt(m, "expiry")), firstOf(m, "serial"), date(newest[group{t["namespace"], t["domain"]}])))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Replica < out[j].Replica })
	return out
}

func fieldInt(m telegraf.Metric, name string) int64 {
	v, _ := m.GetField(name)
	n, _ := v.(int64)
	return n
}

func fieldBool(m telegraf.Metric, name string) bool {
	v, _ := m.GetField(name)
	b, _ := v.(bool)
	return b
}

// firstOf returns the first non-empty string field among names.
func firstOf(m telegraf.Metric, names ...string) string {
	for _, n := range names {
		if v, ok := m.GetField(n); ok {
			if s, _ := v.(string); s != "" {
				return s
			}
		}
	}
	return ""
}

func days(seconds int64) string { return fmt.Sprintf("%.1f days", float64(seconds)/86400) }

func date(unix any) string {
	n, _ := unix.(int64)
	return time.Unix(n, 0).UTC().Format("2006-01-02")
}
