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

// BenchmarkFluxStaleCertificates: flux/stale_certificates.flux over a fleet as the plugin
// reports it. Served: 2,000 pods × 5 domains, 5 gathers a minute apart (10,000 backends); one
// pod in a hundred still serves the certificate renewed 30 days ago. Stored: each domain's
// certificate file read every minute for the whole lookback (cert_file: 5 × 1,440 rows a day,
// the query's costliest part: it finds when each stored certificate was first reported), and
// the deploy hook's renewals 90 and 30 days ago. stale lists the 100 stale backends (as a
// dashboard cell does); all returns every backend (as kapacitor/stale_certificate.tick does).
func BenchmarkFluxStaleCertificates(b *testing.B) {
	testenv.RequireIntegration(b)
	const pods, domains, gathers = 2000, 5, 5
	db := testenv.StartInfluxDB18(b, testenv.InfluxDBOptions{Flux: true})
	influxQL(b, db.URL, `CREATE DATABASE "telegraf"`)
	renewed := fluxNow.AddDate(0, 0, -30).Truncate(time.Hour)
	oldNotAfter, newNotAfter := renewed.AddDate(0, 0, -60).Add(90*24*time.Hour).Unix(), renewed.Add(90*24*time.Hour).Unix()
	var lines []string
	flush := func(force bool) {
		if len(lines) >= 5000 || (force && len(lines) > 0) {
			writeLines(b, db.URL, "telegraf", lines)
			lines = lines[:0]
		}
	}
	for g := range gathers {
		ts := fluxNow.Add(-time.Duration(g+1) * time.Minute)
		for p := range pods {
			pr := probe{fmt.Sprintf("ns-%02d", p%50), fmt.Sprintf("pod-%05d", p), fmt.Sprintf("127.%d.%d.%d", p/65536, p/256%256, p%256), "443", ""}
			notAfter := newNotAfter
			if p%100 == 0 {
				notAfter = oldNotAfter
			}
			for d := range domains {
				pr.domain = fmt.Sprintf("d%d.example.test", d)
				lines = append(lines, pr.line("valid", 0, fmt.Sprintf("expiry=%di,not_after=%di", notAfter-ts.Unix(), notAfter), ts))
				flush(false)
			}
		}
	}
	lookbackDays := 90
	for d := range domains {
		domain := fmt.Sprintf("d%d.example.test", d)
		for m := 0; m < lookbackDays*1440; m++ {
			ts := fluxNow.Add(-time.Duration(m+1) * time.Minute)
			notAfter := newNotAfter
			if ts.Before(renewed) {
				notAfter = oldNotAfter
			}
			lines = append(lines, fmt.Sprintf("cert_file,domain=%s,host=telegraf-a,path=/etc/letsencrypt/live/%s/cert.pem,status=valid status_code=0i,expiry=%di,not_after=%di %d",
				domain, domain, notAfter-ts.Unix(), notAfter, ts.UnixNano()))
			flush(false)
		}
		for _, ago := range []int{90, 30} {
			at := fluxNow.AddDate(0, 0, -ago).Truncate(time.Hour)
			lines = append(lines, fmt.Sprintf("certbot_renewal,domain=%s,host=web-a renewed_count=1,not_after=%di %d", domain, at.Add(90*24*time.Hour).Unix(), at.UnixNano()))
		}
	}
	flush(true)
	for _, c := range []struct {
		name      string
		onlyStale string
		rows      int
	}{{"stale", "true", pods / 100 * domains}, {"all", "false", pods * domains}} {
		b.Run(fmt.Sprintf("%s/backends=%d/stored_rows=%d", c.name, pods*domains, domains*lookbackDays*1440), func(b *testing.B) {
			q := atNow(setParams(b, readRepoFile(b, "flux/stale_certificates.flux"), map[string]string{"onlyStale": c.onlyStale, "lookback": fmt.Sprintf("-%dd", lookbackDays)}), fluxNow)
			if rows := fluxQuery(b, db.URL, q); len(rows) != c.rows {
				b.Fatalf("%d rows, want %d", len(rows), c.rows)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				fluxQuery(b, db.URL, q)
			}
		})
	}
}
