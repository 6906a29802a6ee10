package alerting

import (
	"fmt"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// The alert rule for every lifetime from 160 hours to 200 days: renewal due with L/3 left
// (L/2 under 10 days), missed renewal and expiry WARNING with L/4 left (L/3 under 10 days),
// expiry CRITICAL with L/6 left. These are the hours kapacitor/README.md and flux/README.md
// publish; the tests below pin them on the real engines.

// alertLifetimes are the lifetimes the alerts must be right for, with the first whole hour
// after notBefore at which the missed-renewal alert and the expiry WARNING hold (warnHour),
// and the expiry CRITICAL (critHour).
var alertLifetimes = []struct {
	name               string
	lifetime           int64 // seconds, nominal; Let's Encrypt issues one second less
	warnHour, critHour int64
}{
	{"160h", 160 * 3600, 107, 134},    // 106h40m (53h20m left), 133h20m (26h40m left)
	{"45d", 45 * 86400, 810, 900},     // 33d18h (11d6h left), 37d12h (7d12h left)
	{"64d", 64 * 86400, 1152, 1280},   // 48d (16d left), 53d8h (10d16h left)
	{"90d", 90 * 86400, 1620, 1800},   // 67d12h (22d12h left), 75d (15d left)
	{"200d", 200 * 86400, 3600, 4000}, // 150d (50d left), 166d16h (33d8h left)
}

// hours is n hours as a duration.
func hours(n int64) time.Duration { return time.Duration(n) * time.Hour }

// TestFluxLifetimesOnInfluxDB18 pins, on a real InfluxDB 1.8.3, the hour at which
// flux/overdue_renewals.flux first reports each lifetime's renewal overdue, and shows that
// healthy renewal histories never read overdue.
func TestFluxLifetimesOnInfluxDB18(t *testing.T) {
	testenv.RequireIntegration(t)
	db := testenv.StartInfluxDB18(t, testenv.InfluxDBOptions{Flux: true})
	influxQL(t, db.URL, `CREATE DATABASE "lifetimes"`)
	influxQL(t, db.URL, `CREATE DATABASE "healthy"`)
	query := func(t *testing.T, bucket string, now time.Time) []fluxRow {
		t.Helper()
		q := setParams(t, readRepoFile(t, "flux/overdue_renewals.flux"), map[string]string{"onlyOverdue": "false", "bucket": strconv.Quote(bucket)})
		return fluxQuery(t, db.URL, atNow(q, now))
	}

	// One certificate per lifetime, nominal and one second short, all renewed at renewed and
	// never again.
	renewed := time.Date(2026, 3, 2, 3, 17, 0, 0, time.UTC)
	var lines []string
	for _, c := range alertLifetimes {
		lines = append(lines, hookLines(t, "epsilon", []string{c.name + ".example.test"}, renewed, c.lifetime)...)
		lines = append(lines, hookLines(t, "epsilon", []string{c.name + "-le.example.test"}, renewed, c.lifetime-1)...)
	}
	writeLines(t, db.URL, "lifetimes", lines)

	for _, c := range alertLifetimes {
		t.Run("first_hour/"+c.name, func(t *testing.T) {
			issued := notBefore(renewed)
			for _, at := range []struct {
				hour    int64
				overdue bool
			}{{c.warnHour - 1, false}, {c.warnHour, true}} {
				now := issued.Add(hours(at.hour))
				rows := query(t, "lifetimes/autogen", now)
				for _, d := range []struct {
					domain   string
					lifetime int64
				}{{c.name + ".example.test", c.lifetime}, {c.name + "-le.example.test", c.lifetime - 1}} {
					var got []string
					for _, r := range rows {
						if r["domain"] == d.domain {
							got = cols([]fluxRow{r}, overdueCols...)
							if r["overdue"] != strconv.FormatBool(at.overdue) {
								t.Errorf("%s, hour %d after notBefore: overdue %s, want %t", d.domain, at.hour, r["overdue"], at.overdue)
							}
							// It fires while at least L/6 is left.
							if left, err := strconv.ParseFloat(r["hours_left"], 64); err != nil || left < float64(d.lifetime)/3600/6 {
								t.Errorf("%s, hour %d: hours_left %s, want at least L/6 = %.2f", d.domain, at.hour, r["hours_left"], float64(d.lifetime)/3600/6)
							}
						}
					}
					equalLines(t, fmt.Sprintf("%s at hour %d", d.domain, at.hour), got, []string{overdueRow(d.domain, "epsilon", renewed, d.lifetime, now)})
				}
			}
		})
	}

	// Healthy histories: a year of 90-day certificates renewed at day 60, and its last 30
	// days of 160-hour certificates renewed every 80 hours. Neither is ever overdue. Between
	// two renewals the time left only shrinks, so the history is read where the certificate
	// in use is oldest — one second before each renewal and at the end — and a minute after
	// each renewal (a read costs InfluxDB 1.8 about half a second, so not every hour).
	yearStart := time.Date(2025, 11, 1, 3, 17, 0, 0, time.UTC)
	shortStart := yearStart.AddDate(0, 0, 335)
	var renewals []time.Time
	lines = nil
	for k := 0; k <= 6; k++ {
		ts := yearStart.AddDate(0, 0, 60*k)
		renewals = append(renewals, ts)
		lines = append(lines, hookLines(t, "classic", []string{"classic.example.test"}, ts, lifetime90)...)
	}
	for k := 0; k <= 9; k++ {
		ts := shortStart.Add(hours(80 * int64(k)))
		renewals = append(renewals, ts)
		lines = append(lines, hookLines(t, "shortlived", []string{"short.example.test"}, ts, 160*3600-1)...)
	}
	writeLines(t, db.URL, "healthy", lines)
	// The end: one second before the 160-hour certificate's next renewal would be due.
	times := []time.Time{shortStart.Add(hours(800) - time.Second)}
	for _, r := range renewals {
		times = append(times, r.Add(-time.Second), r.Add(time.Minute))
	}
	t.Run("healthy", func(t *testing.T) {
		seen := map[string]int{}
		for _, now := range times {
			for _, r := range query(t, "healthy/autogen", now) {
				seen[r["domain"]]++
				if r["overdue"] != "false" {
					t.Errorf("%s: %s on %s reads overdue: %v", now.Format(time.RFC3339), r["domain"], r["host"], cols([]fluxRow{r}, overdueCols...))
				}
			}
		}
		// Both certificates were in view: every read after the first 90-day renewal sees the
		// classic one, every read after the first 160-hour renewal the short one.
		wantSeen := map[string]int{}
		for _, at := range times {
			if at.After(yearStart) {
				wantSeen["classic.example.test"]++
			}
			if at.After(shortStart) {
				wantSeen["short.example.test"]++
			}
		}
		if wantSeen["short.example.test"] < 20 || !maps.Equal(seen, wantSeen) {
			t.Errorf("rows seen: %v of %d reads, want %v", seen, len(times), wantSeen)
		}
	})
}
