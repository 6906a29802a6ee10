package alerting

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// Benchmarks of the dashboard and alert queries on InfluxDB 1.8.3 (Flux) at fleet sizes:
// how long a dashboard refresh or a Kapacitor queryFlux run costs the server. Run with
// `make bench-alerting`; figures in BENCHMARKS.md.

// loadRenewals writes 180 days of renewals for hosts × domainsPerHost certificates, each
// renewed every 60 days (90-day) or 30 days (45-day, every other domain), at staggered days.
func loadRenewals(b *testing.B, db *testenv.InfluxDB, hosts, domainsPerHost int) int {
	b.Helper()
	var lines []string
	points := 0
	for h := 0; h < hosts; h++ {
		for d := 0; d < domainsPerHost; d++ {
			every, lifetime := 60, int64(lifetime90)
			if d%2 == 1 {
				every, lifetime = 30, lifetime45
			}
			for ago := 179 - (h*7+d)%every; ago >= 0; ago -= every {
				r := renewal{host: fmt.Sprintf("host-%03d", h), daysAgo: ago, after: time.Duration(d) * time.Second,
					domains: []string{fmt.Sprintf("d%02d.host-%03d.example.test", d, h)}, lifetime: lifetime}
				lines = append(lines, r.lines(b)...)
				points += 2
			}
			if len(lines) >= 5000 {
				writeLines(b, db.URL, "telegraf", lines)
				lines = lines[:0]
			}
		}
	}
	writeLines(b, db.URL, "telegraf", lines)
	return points
}

func BenchmarkFluxOverdueRenewals(b *testing.B) {
	testenv.RequireIntegration(b)
	for _, size := range []struct{ hosts, domains int }{{10, 10}, {100, 10}} {
		db := testenv.StartInfluxDB18(b, testenv.InfluxDBOptions{Flux: true})
		influxQL(b, db.URL, `CREATE DATABASE "telegraf"`)
		points := loadRenewals(b, db, size.hosts, size.domains)
		// The work grows with the renewals and the shards in the lookback: the default
		// (250 days, for lifetimes up to 200 days) and one that covers 90-day certificates.
		for _, lookback := range []string{"-250d", "-100d"} {
			b.Run(fmt.Sprintf("certificates=%d/lookback=%s", size.hosts*size.domains, lookback), func(b *testing.B) {
				q := atNow(setParams(b, readRepoFile(b, "flux/overdue_renewals.flux"), map[string]string{"onlyOverdue": "false", "lookback": lookback}), fluxNow)
				if rows := fluxQuery(b, db.URL, q); len(rows) != size.hosts*size.domains {
					b.Fatalf("%d rows, want one per certificate (%d); %d points written", len(rows), size.hosts*size.domains, points)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					fluxQuery(b, db.URL, q)
				}
			})
		}
		db.Stop()
	}
}

// loadProbes writes gathers (one per minute) of probes rows: pods × domains, one in a hundred
// expired.
func loadProbes(b *testing.B, db *testenv.InfluxDB, pods, domains, gathers int) {
	b.Helper()
	var lines []string
	for g := 0; g < gathers; g++ {
		ts := fluxNow.Add(-time.Duration(g+1) * time.Minute)
		for p := 0; p < pods; p++ {
			pr := probe{fmt.Sprintf("ns-%02d", p%50), fmt.Sprintf("pod-%05d", p), fmt.Sprintf("127.%d.%d.%d", p/65536, p/256%256, p%256), "443", ""}
			for d := 0; d < domains; d++ {
				pr.domain = fmt.Sprintf("d%d.example.test", d)
				if p%100 == 0 {
					lines = append(lines, validRow(pr, -1, ts))
				} else {
					lines = append(lines, validRow(pr, 40, ts))
				}
			}
			if len(lines) >= 5000 {
				writeLines(b, db.URL, "telegraf", lines)
				lines = lines[:0]
			}
		}
	}
	writeLines(b, db.URL, "telegraf", lines)
}

func BenchmarkFluxProbeViews(b *testing.B) {
	testenv.RequireIntegration(b)
	const pods, domains, gathers = 2000, 5, 5 // 10,000 probes, 50,000 rows in the window
	db := testenv.StartInfluxDB18(b, testenv.InfluxDBOptions{Flux: true})
	influxQL(b, db.URL, `CREATE DATABASE "telegraf"`)
	loadProbes(b, db, pods, domains, gathers)
	for _, rel := range []string{"flux/probes_by_status.flux", "flux/expiry_soonest.flux", "flux/bad_replicas.flux", "flux/alerts/cert_status.flux"} {
		name := strings.TrimSuffix(strings.TrimPrefix(rel, "flux/"), ".flux")
		b.Run(fmt.Sprintf("%s/probes=%d", name, pods*domains), func(b *testing.B) {
			q := atNow(readRepoFile(b, rel), fluxNow)
			rows := fluxQuery(b, db.URL, q)
			if len(rows) == 0 {
				b.Fatalf("%s: no rows", rel)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				fluxQuery(b, db.URL, q)
			}
		})
	}
}
