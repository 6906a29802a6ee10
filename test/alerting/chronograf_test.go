package alerting

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// chronografExport is what the tests read of a Chronograf dashboard export.
type chronografExport struct {
	Dashboard struct {
		Cells []struct {
			Name    string `json:"name"`
			Queries []struct {
				Query string `json:"query"`
				Type  string `json:"type"`
			} `json:"queries"`
		} `json:"cells"`
		Templates []struct {
			TempVar string `json:"tempVar"`
			Values  []struct {
				Value    string `json:"value"`
				Selected bool   `json:"selected"`
			} `json:"values"`
		} `json:"templates"`
	} `json:"dashboard"`
}

func readChronograf(t *testing.T, rel string) chronografExport {
	t.Helper()
	var doc chronografExport
	if err := json.Unmarshal([]byte(readRepoFile(t, rel)), &doc); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return doc
}

var importLine = regexp.MustCompile(`(?m)^import ".*"\n`)

// chronografFlux renders a Flux cell query as Chronograf 1.10 sends it: the imports first,
// then the time range and every custom template variable :name: in the record v, then the
// body. now pins now() so that two renderings can be compared.
func chronografFlux(query string, vars map[string]string, lower, upper string, now time.Time) string {
	imports := strings.Join(importLine.FindAllString(query, -1), "")
	body := importLine.ReplaceAllString(query, "")
	var extra string
	for name, value := range vars {
		extra += ` "` + name + `" : "` + value + `" ,`
	}
	return imports + "option now = () => " + now.UTC().Format(time.RFC3339Nano) + "\n" +
		"dashboardTime = " + lower + "\nupperDashboardTime = " + upper + "\n" +
		"v = {" + extra + " timeRangeStart: dashboardTime , timeRangeStop: upperDashboardTime }\n\n" + body
}

var generatedFrom = regexp.MustCompile(`^// Generated from (\S+\.flux) by`)

// TestChronografDashboardBucketVariable runs every cell of the Chronograf dashboard on
// InfluxDB 1.8.3 as Chronograf renders it, with its :bucket: variable set to a database and
// retention policy other than telegraf/autogen: each answers exactly as its query file does
// with that bucket, and not empty.
func TestChronografDashboardBucketVariable(t *testing.T) {
	testenv.RequireIntegration(t)
	db := testenv.StartInfluxDB18(t, testenv.InfluxDBOptions{Flux: true})
	influxQL(t, db.URL, `CREATE DATABASE "metrics"`)
	influxQL(t, db.URL, `CREATE RETENTION POLICY "four_weeks" ON "metrics" DURATION 400d REPLICATION 1`)
	writeLinesRP(t, db.URL, "metrics", "four_weeks", renewalLines(t))
	writeLinesRP(t, db.URL, "metrics", "four_weeks", probeLines())
	// A reading with not_after, which the served-vs-renewed query compares.
	writeLinesRP(t, db.URL, "metrics", "four_weeks", []string{
		podWeb0.line("valid", 0, fmt.Sprintf("expiry=%di,not_after=%di", 50*86400, fluxNow.Add(50*24*time.Hour).Unix()), fluxNow.Add(-time.Minute)),
	})

	doc := readChronograf(t, "flux/dashboards/chronograf-dashboard.json")
	if len(doc.Dashboard.Templates) != 1 || doc.Dashboard.Templates[0].TempVar != ":bucket:" {
		t.Fatalf("templates %+v, want :bucket:", doc.Dashboard.Templates)
	}
	const bucket = "metrics/four_weeks"
	lower, upper := "-30d", fluxNow.UTC().Format(time.RFC3339Nano)
	for _, c := range doc.Dashboard.Cells {
		t.Run(c.Name, func(t *testing.T) {
			q := c.Queries[0].Query
			m := generatedFrom.FindStringSubmatch(q)
			if m == nil {
				t.Fatalf("query does not name its source file:\n%s", q)
			}
			params := map[string]string{"bucket": `"` + bucket + `"`}
			// The test data has no stale backend: list every backend so the answer is not empty.
			if m[1] == "flux/stale_certificates.flux" {
				params["onlyStale"] = "false"
				q = setParams(t, q, map[string]string{"onlyStale": "false"})
			}
			if strings.Contains(q, "\nstart = v.timeRangeStart\n") {
				params["start"], params["stop"] = lower, upper
			}
			src := setParams(t, readRepoFile(t, m[1]), params)
			// now() pinned after the imports, where Flux wants options.
			src = strings.Join(importLine.FindAllString(src, -1), "") + atNow(importLine.ReplaceAllString(src, ""), fluxNow)
			want := string(fluxCSV(t, db.URL, src))
			got := string(fluxCSV(t, db.URL, chronografFlux(q, map[string]string{"bucket": bucket}, lower, upper, fluxNow)))
			if strings.Count(strings.TrimSpace(want), "\n") < 4 { // annotations, header, a row
				t.Fatalf("%s answers nothing on the test data:\n%s", m[1], want)
			}
			if got != want {
				t.Errorf("cell answer differs from %s with bucket %q\ngot:\n%s\nwant:\n%s", m[1], bucket, got, want)
			}
		})
	}
}
