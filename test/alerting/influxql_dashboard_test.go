package alerting

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// influxQLSeries runs an InfluxQL query (times as Unix seconds) and renders every series as
// "tag=value,… | column=value …", values as InfluxDB's JSON has them (null for none).
func influxQLSeries(t *testing.T, influxURL, db, q string) []string {
	t.Helper()
	u := influxURL + "/query?" + url.Values{"db": {db}, "epoch": {"s"}, "q": {q}}.Encode()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		Results []struct {
			Error  string `json:"error"`
			Series []struct {
				Tags    map[string]string `json:"tags"`
				Columns []string          `json:"columns"`
				Values  [][]any           `json:"values"`
			} `json:"series"`
		} `json:"results"`
		Error string `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.Error != "" || len(out.Results) != 1 || out.Results[0].Error != "" {
		t.Fatalf("query %s: %s: %s", q, resp.Status, body)
	}
	var rows []string
	for _, s := range out.Results[0].Series {
		var tags []string
		for k, v := range s.Tags {
			tags = append(tags, k+"="+v)
		}
		sort.Strings(tags)
		for _, v := range s.Values {
			var cols []string
			for i, c := range s.Columns {
				cols = append(cols, fmt.Sprintf("%s=%v", c, nullable(v[i])))
			}
			rows = append(rows, strings.Join(tags, ",")+" | "+strings.Join(cols, " "))
		}
	}
	return rows
}

func nullable(v any) any {
	if v == nil {
		return "null"
	}
	return v
}

// TestChronografInfluxQLDashboard runs the InfluxQL dashboard's queries on Debian's InfluxDB
// 1.6.7 and on 1.8.3, as Chronograf sends them with :db: and :rp: set to a database and
// retention policy other than telegraf.autogen, on rows shaped as the plugin and the deploy
// hook write them, and asserts every row.
func TestChronografInfluxQLDashboard(t *testing.T) {
	testenv.RequireIntegration(t)
	doc := readChronograf(t, "flux/dashboards/chronograf-influxql-dashboard.json")
	queries := map[string]string{}
	for _, c := range doc.Dashboard.Cells {
		if c.Queries[0].Type != "influxql" {
			t.Fatalf("cell %s: query type %s", c.Name, c.Queries[0].Type)
		}
		// Chronograf substitutes text template variables as typed.
		queries[c.Name] = strings.NewReplacer(":db:", "metrics", ":rp:", "long").Replace(c.Queries[0].Query)
	}

	now := time.Now().Truncate(time.Second)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	const day = 24 * time.Hour
	gonePod := probe{"shop", "web-9", "127.0.0.9", "443", "shop.example.test"}
	probes := []string{
		servedRow(podWeb0, lifetime90, lifetime90-50*86400, ago(time.Minute)),
		servedRow(podWeb2, lifetime90, lifetime90-50*86400, ago(7*time.Minute)), // served the right one …
		servedRow(podWeb2, lifetime90, lifetime90+2*86400, ago(time.Minute)),    // … then an expired one
		servedRow(podAPI0, lifetime90, lifetime90-20*86400, ago(time.Minute)),
		servedRow(staticShort, 160*3600-1, 100*3600-1, ago(time.Minute)), // 60 hours left
		failedRow(staticLB, "unreachable", 4, ago(time.Minute)),
		podAPI1.line("timeout", 6, `error="handshake timeout"`, ago(2*time.Minute)),
		servedRow(gonePod, lifetime90, lifetime90-86400, ago(20*time.Minute)), // outside the window
	}
	var renewals []string
	renewals = append(renewals, hookLines(t, "alpha", []string{"shop.example.test", "www.shop.example.test"}, ago(118*day), lifetime90)...)
	renewals = append(renewals, hookLines(t, "alpha", []string{"shop.example.test", "www.shop.example.test"}, ago(58*day), lifetime90)...)
	renewals = append(renewals, hookLines(t, "gamma", []string{"oldhook.example.test"}, ago(40*day), 0)...)
	renewals = append(renewals, hookLines(t, "beta", []string{"legacy.example.test"}, ago(200*day), lifetime90)...) // older than 180 days

	days := func(seconds int64) string { return ff(float64(seconds) / 86400) }
	probeRow := func(p probe, at time.Time, expiry, lifetime int64, status string) string {
		return fmt.Sprintf("address=%s,domain=%s,namespace=%s,pod=%s,port=%s,source=%s | time=%d days_left=%s lifetime_days=%s status=%s",
			p.address, p.domain, p.namespace, p.pod, p.port, map[bool]string{true: "kubernetes", false: "static"}[p.pod != ""],
			at.Unix(), days(expiry), days(lifetime), status)
	}
	renewalRow := func(domain, host string, at time.Time, lifetime int64) string {
		if lifetime == 0 {
			return fmt.Sprintf("domain=%s,host=%s | time=%d renewed_count=1 lifetime_days=null not_after=null", domain, host, at.Unix())
		}
		return fmt.Sprintf("domain=%s,host=%s | time=%d renewed_count=1 lifetime_days=%s not_after=%d", domain, host, at.Unix(), days(lifetime), notBefore(at).Unix()+lifetime)
	}
	want := map[string][]string{
		"Soonest-expiring certificates": {
			probeRow(podWeb0, ago(time.Minute), 50*86400, lifetime90, "valid"),
			probeRow(podWeb2, ago(time.Minute), -2*86400, lifetime90, "expired"),
			probeRow(podAPI0, ago(time.Minute), 20*86400, lifetime90, "valid"),
			probeRow(staticShort, ago(time.Minute), 60*3600, 160*3600-1, "valid"),
		},
		// Latest reading per probe: web-2 counts once, as expired; the deleted pod not at all.
		"Probes by status": {
			" | time=0 valid=3 expired=1 not_yet_valid=0 not_found=0 unreachable=1 handshake_failed=0 timeout=1",
		},
		"Last renewal per domain and host": {
			renewalRow("oldhook.example.test", "gamma", ago(40*day), 0),
			renewalRow("shop.example.test", "alpha", ago(58*day), lifetime90),
			renewalRow("www.shop.example.test", "alpha", ago(58*day), lifetime90),
		},
	}
	if len(queries) != len(want) {
		t.Fatalf("cells %v, want %d", queries, len(want))
	}

	for _, srv := range influxServers {
		t.Run(srv.name, func(t *testing.T) {
			db := srv.start(t)
			influxQL(t, db.URL, `CREATE DATABASE "telegraf"`)
			influxQL(t, db.URL, `CREATE DATABASE "metrics"`)
			influxQL(t, db.URL, `CREATE RETENTION POLICY "long" ON "metrics" DURATION 400d REPLICATION 1`)
			writeLinesRP(t, db.URL, "metrics", "long", append(probes, renewals...))
			// Decoys in the default database: a query still reading it would list them.
			decoy := probe{"", "", "127.0.0.99", "443", "decoy.example.test"}
			writeLines(t, db.URL, "telegraf", append(hookLines(t, "decoy", []string{"decoy.example.test"}, ago(day), lifetime90),
				servedRow(decoy, lifetime90, 0, ago(time.Minute))))
			for name, q := range queries {
				got := influxQLSeries(t, db.URL, "metrics", q)
				w := slices.Clone(want[name])
				sort.Strings(got)
				sort.Strings(w)
				if !slices.Equal(got, w) {
					t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s\nquery: %s", name, strings.Join(got, "\n  "), strings.Join(w, "\n  "), q)
				}
			}
		})
	}
}
