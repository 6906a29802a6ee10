package alerting

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	certbotrenewal "github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/renewal"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// The Flux queries run for real on InfluxDB 1.8.3 (Flux 0.65), loaded with 120 days of
// synthetic renewals and a few minutes of probe rows, all timestamped relative to a fixed
// "now" that the queries are pinned to with `option now`.

// fluxNow is the fixed "now" of the synthetic data.
var fluxNow = time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)

// Lifetimes as Let's Encrypt issues them: whole days minus one second.
const (
	lifetime90 = 90*86400 - 1
	lifetime64 = 64*86400 - 1
	lifetime45 = 45*86400 - 1
)

// renewalAt is n days before fluxNow's day, at 03:17 UTC (certbot's timer ran).
func renewalAt(n int) time.Time {
	return time.Date(2026, 11, 20, 3, 17, 0, 0, time.UTC).AddDate(0, 0, -n)
}

// renewal is one run of the deploy hook: certbot calls it once per renewed certificate
// (lineage) with the certificate's names. Its rows are made by the hook's own encoder
// (internal/certbot/renewal): a row per name and the per-run total (domain "all"),
// renewed_count a float, and not_before, not_after and lifetime from the certificate.
// lifetime 0 stands for the original blog post's Python hook, which sends renewed_count only.
type renewal struct {
	host     string
	daysAgo  int
	after    time.Duration // after 03:17, for a second certificate renewed in the same certbot run
	domains  []string
	lifetime int64
}

func (r renewal) time() time.Time { return renewalAt(r.daysAgo).Add(r.after) }

func (r renewal) lines(t testing.TB) []string {
	t.Helper()
	return hookLines(t, r.host, r.domains, r.time(), r.lifetime)
}

// issuedBefore is how long before certbot deployed it a certificate was issued (Let's
// Encrypt backdates notBefore by an hour).
const issuedBefore = time.Hour

// notBefore is the notBefore of the certificate a renewal reported at ts installed.
func notBefore(ts time.Time) time.Time { return ts.Add(-issuedBefore).Truncate(time.Second) }

// hookLines are the deploy hook's rows for one renewal at ts; lifetime 0 stands for a hook
// that sends renewed_count only.
func hookLines(t testing.TB, host string, domains []string, ts time.Time, lifetime int64) []string {
	t.Helper()
	hook := certbotrenewal.Renewal{Host: host, Domains: domains, Time: ts}
	if lifetime > 0 {
		nb := notBefore(ts)
		hook.Cert = &certbotrenewal.Cert{NotBefore: nb, NotAfter: nb.Add(time.Duration(lifetime) * time.Second)}
	}
	b, err := certbotrenewal.Lines(hook)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// renewals: 120 days of deploy-hook runs.
//   - alpha renews on schedule: shop (a 90-day certificate for two names) every 60 days,
//     api (45-day) every 30 days; twice both in the same certbot run.
//   - beta stops renewing: blog (45-day) last renewed 55 days ago, legacy (90-day) 110 days ago.
//   - delta has a 64-day certificate last renewed 50 days ago.
//   - gamma runs the original Python hook, which sends no lifetime: the fixed 62-day threshold
//     applies.
var renewals = []renewal{
	{"alpha", 118, 0, []string{"shop.example.test", "www.shop.example.test"}, lifetime90},
	{"alpha", 118, 30 * time.Second, []string{"api.example.test"}, lifetime45},
	{"alpha", 88, 0, []string{"api.example.test"}, lifetime45},
	{"alpha", 58, 0, []string{"shop.example.test", "www.shop.example.test"}, lifetime90},
	{"alpha", 58, 30 * time.Second, []string{"api.example.test"}, lifetime45},
	{"alpha", 28, 0, []string{"api.example.test"}, lifetime45},
	{"beta", 115, 0, []string{"blog.example.test"}, lifetime45},
	{"beta", 110, 0, []string{"legacy.example.test"}, lifetime90},
	{"beta", 85, 0, []string{"blog.example.test"}, lifetime45},
	{"beta", 55, 0, []string{"blog.example.test"}, lifetime45},
	{"delta", 50, 0, []string{"new.example.test"}, lifetime64},
	{"gamma", 100, 0, []string{"oldhook.example.test"}, 0},
	{"gamma", 40, 0, []string{"oldhook.example.test"}, 0},
}

func renewalLines(t testing.TB) []string {
	var out []string
	for _, r := range renewals {
		out = append(out, r.lines(t)...)
	}
	return out
}

// probeLines are cert_expiry rows of the last minutes before fluxNow.
func probeLines() []string {
	at := func(minutesAgo int) time.Time { return fluxNow.Add(-time.Duration(minutesAgo) * time.Minute) }
	row := func(p probe, host string, status string, code int, expiry, lifetime int64, fp string, ts time.Time) string {
		verified, verr := status == "valid", ""
		if !verified {
			verr = "x509: certificate has expired or is not yet valid"
		}
		if p == staticOld { // valid, but its chain does not verify
			verified, verr = false, "x509: certificate signed by unknown authority"
		}
		l := p.line(status, code, fmt.Sprintf(`expiry=%di,lifetime=%di,fingerprint_sha256="%s",verified=%t,verification_error="%s"`, expiry, lifetime, fp, verified, verr), ts)
		return strings.Replace(l, "host=telegraf-a", "host="+host, 1)
	}
	gonePod := probe{"shop", "web-9", "127.0.0.9", "443", "shop.example.test"}
	const day, hour = 86400, 3600
	return []string{
		row(podWeb0, "telegraf-a", "valid", 0, 50*day, lifetime90, "aa", at(1)),
		row(podWeb1, "telegraf-a", "valid", 0, 50*day, lifetime90, "aa", at(1)),
		row(podWeb2, "telegraf-a", "valid", 0, 50*day, lifetime90, "aa", at(7)),   // web-2 served the right one …
		row(podWeb2, "telegraf-a", "expired", 1, -2*day, lifetime90, "bb", at(1)), // … then an old one
		row(podAPI0, "telegraf-b", "valid", 0, 20*day, lifetime90, "cc", at(1)),   // past due + slack: WARNING
		row(podAPI1, "telegraf-b", "valid", 0, 20*day, lifetime90, "cc", at(1)),
		row(staticOld, "telegraf-b", "valid", 0, 10*day, lifetime45, "dd", at(1)),    // L/6 left: CRITICAL
		row(staticShort, "telegraf-b", "valid", 0, 60*hour, 160*hour-1, "ff", at(1)), // 160-hour, within its cadence
		strings.Replace(failedRow(staticLB, "unreachable", 4, at(1)), "host=telegraf-a", "host=telegraf-b", 1),
		row(gonePod, "telegraf-a", "valid", 0, 1*day, lifetime90, "ee", at(20)), // deleted pod: outside the window
	}
}

// update rewrites the recorded answers instead of comparing with them.
var update = flag.Bool("update", false, "rewrite test/tickcheck/testdata/*.csv with InfluxDB 1.8.3's answers")

// checkGolden compares InfluxDB's answer to a queryFlux task's query with the copy recorded in
// test/tickcheck/testdata, where the tickcheck module feeds it through Kapacitor 1.7's own
// Flux-result conversion and the task's alert lambdas and messages. Rewrite the copies with
// `go test ./test/alerting -run TestFluxOnInfluxDB18 -update` (CERTEXPIRY_INTEGRATION=1).
func checkGolden(t *testing.T, tick string, body []byte) {
	t.Helper()
	rel := filepath.Join("test", "tickcheck", "testdata", strings.TrimSuffix(filepath.Base(tick), ".tick")+".csv")
	path := filepath.Join(repoRoot(t), rel)
	if *update {
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (record it with -update)", err)
	}
	if !bytes.Equal(body, want) {
		t.Errorf("InfluxDB 1.8.3's answer to %s's query differs from %s: rerun with -update if the change is intended, then run test/tickcheck\ngot:\n%s", tick, rel, body)
	}
}

func startFluxInflux(t *testing.T) *testenv.InfluxDB {
	t.Helper()
	db := testenv.StartInfluxDB18(t, testenv.InfluxDBOptions{Flux: true})
	influxQL(t, db.URL, `CREATE DATABASE "telegraf"`)
	writeLines(t, db.URL, "telegraf", renewalLines(t))
	writeLines(t, db.URL, "telegraf", probeLines())
	return db
}

// cols renders selected columns of every row as "a=1 b=2", for exact comparison.
func cols(rows []fluxRow, names ...string) []string {
	var out []string
	for _, r := range rows {
		var parts []string
		for _, n := range names {
			parts = append(parts, n+"="+r[n])
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// ff formats a float64 as Flux's CSV does.
func ff(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// overdueCols are the columns of flux/overdue_renewals.flux, in the order the tests print them.
var overdueCols = []string{"domain", "host", "overdue", "hours_since_renewal", "hours_left", "lifetime_hours", "alert_after_hours", "since_renewal", "left", "alert_after", "lifetime", "_time"}

// hoursText is the text flux/overdue_renewals.flux gives a number of hours: "93h" for a
// certificate under 10 days, "33d 18h" otherwise; whole hours, truncated.
func hoursText(hours float64, short bool) string {
	h := int64(math.Abs(hours))
	sign := ""
	if hours <= -1 {
		sign = "-"
	}
	if short {
		return fmt.Sprintf("%s%dh", sign, h)
	}
	return fmt.Sprintf("%s%dd %dh", sign, h/24, h%24)
}

// overdueRow is the row flux/overdue_renewals.flux must give, at now, for the last renewal
// of domain on host reported at ts, whose certificate has the given lifetime (seconds; 0:
// the hook sent none), issued at notBefore(ts). It computes the rule independently of the
// query: overdue with L/4 left, L/3 under 10 days; 62 days after the renewal without a
// lifetime. Floats are divided as the query divides them, so they print the same.
func overdueRow(domain, host string, ts time.Time, lifetime int64, now time.Time) string {
	const nsPerHour = 3600e9
	since := now.Sub(ts).Nanoseconds()
	known := lifetime > 0
	lifetimeHours := float64(lifetime) / 3600
	short := known && lifetimeHours < 240
	left, alertAfter, label, leftText := int64(0), int64(62*86400e9), "unknown", "unknown"
	if known {
		notAfter := notBefore(ts).Unix() + lifetime
		left = notAfter*1e9 - now.UnixNano()
		alertLeft := lifetime * 1e9 / 4
		label = fmt.Sprintf("%dd", int64(lifetimeHours/24+0.5))
		if short {
			alertLeft = lifetime * 1e9 / 3
			label = fmt.Sprintf("%dh", int64(lifetimeHours+0.5))
		}
		alertAfter = since + left - alertLeft
		leftText = hoursText(float64(left)/nsPerHour, short)
	}
	return fmt.Sprintf("domain=%s host=%s overdue=%t hours_since_renewal=%s hours_left=%s lifetime_hours=%s alert_after_hours=%s since_renewal=%s left=%s alert_after=%s lifetime=%s _time=%s",
		domain, host, since >= alertAfter, ff(float64(since)/nsPerHour), ff(float64(left)/nsPerHour), ff(lifetimeHours), ff(float64(alertAfter)/nsPerHour),
		hoursText(float64(since)/nsPerHour, short), leftText, hoursText(float64(alertAfter)/nsPerHour, short), label, now.UTC().Format(time.RFC3339))
}

func TestFluxOnInfluxDB18(t *testing.T) {
	testenv.RequireIntegration(t)
	db := startFluxInflux(t)
	run := func(t *testing.T, rel string, now time.Time, params map[string]string) []fluxRow {
		t.Helper()
		return fluxQuery(t, db.URL, atNow(setParams(t, readRepoFile(t, rel), params), now))
	}
	byDomain := func(rows []fluxRow) {
		sort.Slice(rows, func(i, j int) bool { return rows[i]["domain"]+rows[i]["host"] < rows[j]["domain"]+rows[j]["host"] })
	}

	t.Run("overdue_renewals/now", func(t *testing.T) {
		rows := run(t, "flux/overdue_renewals.flux", fluxNow, map[string]string{"onlyOverdue": "false"})
		byDomain(rows)
		last := func(domain, host string, daysAgo int, lifetime int64) string {
			return overdueRow(domain, host, renewalAt(daysAgo), lifetime, fluxNow)
		}
		equalLines(t, "overdue rows", cols(rows, overdueCols...), []string{
			last("api.example.test", "alpha", 28, lifetime45),
			last("blog.example.test", "beta", 55, lifetime45),
			last("legacy.example.test", "beta", 110, lifetime90),
			last("new.example.test", "delta", 50, lifetime64),
			last("oldhook.example.test", "gamma", 40, 0),
			last("shop.example.test", "alpha", 58, lifetime90),
			last("www.shop.example.test", "alpha", 58, lifetime90),
		})
		// The independent computation agrees with the rule's table, so a wrong overdueRow
		// cannot make a wrong query pass.
		equalLines(t, "overdue", cols(rows, "domain", "overdue", "since_renewal", "left", "lifetime"), []string{
			"domain=api.example.test overdue=false since_renewal=28d 7h left=16d 15h lifetime=45d",
			"domain=blog.example.test overdue=true since_renewal=55d 7h left=-10d 8h lifetime=45d",
			"domain=legacy.example.test overdue=true since_renewal=110d 7h left=-20d 8h lifetime=90d",
			"domain=new.example.test overdue=true since_renewal=50d 7h left=13d 15h lifetime=64d",
			"domain=oldhook.example.test overdue=false since_renewal=40d 7h left=unknown lifetime=unknown",
			"domain=shop.example.test overdue=false since_renewal=58d 7h left=31d 15h lifetime=90d",
			"domain=www.shop.example.test overdue=false since_renewal=58d 7h left=31d 15h lifetime=90d",
		})
		// The dashboard's list (the file's default onlyOverdue = true) holds only the overdue.
		only := run(t, "flux/overdue_renewals.flux", fluxNow, nil)
		var names []string
		for _, r := range only {
			names = append(names, r["domain"])
		}
		sort.Strings(names)
		equalLines(t, "overdue list", names, []string{"blog.example.test", "legacy.example.test", "new.example.test"})
	})

	t.Run("overdue_renewals/fallback", func(t *testing.T) {
		// gamma's hook sends no lifetime: overdue 62 days after the renewal, to the second.
		ts := renewalAt(40)
		for _, c := range []struct {
			now  time.Time
			want bool
		}{{ts.Add(62*24*time.Hour - time.Second), false}, {ts.Add(62 * 24 * time.Hour), true}} {
			rows := run(t, "flux/overdue_renewals.flux", c.now, map[string]string{"onlyOverdue": "false"})
			var got []string
			for _, r := range rows {
				if r["domain"] == "oldhook.example.test" {
					got = cols([]fluxRow{r}, overdueCols...)
				}
			}
			equalLines(t, c.now.Format(time.RFC3339), got, []string{overdueRow("oldhook.example.test", "gamma", ts, 0, c.now)})
			if !strings.Contains(strings.Join(got, ""), fmt.Sprintf("overdue=%t", c.want)) {
				t.Errorf("%s: want overdue=%t", c.now, c.want)
			}
		}
	})

	t.Run("overdue_renewals/renewal_recovers", func(t *testing.T) {
		// alpha's api certificate (45 days) was renewed 58 and 28 days ago (the first time 30 s
		// after shop, in the same certbot run): the row follows the newest renewal.
		first, second := renewalAt(58).Add(30*time.Second), renewalAt(28)
		for _, c := range []struct {
			now     time.Time
			renewal time.Time
			overdue bool
		}{
			{second.Add(-time.Minute), first, false},
			{second.Add(time.Minute), second, false},
		} {
			rows := run(t, "flux/overdue_renewals.flux", c.now, map[string]string{"onlyOverdue": "false"})
			var got []string
			for _, r := range rows {
				if r["domain"] == "api.example.test" {
					got = append(got, cols([]fluxRow{r}, overdueCols...)...)
				}
			}
			equalLines(t, c.now.Format(time.RFC3339), got, []string{overdueRow("api.example.test", "alpha", c.renewal, lifetime45, c.now)})
		}
	})

	t.Run("renewal_age", func(t *testing.T) {
		rows := run(t, "flux/renewal_age.flux", fluxNow, nil)
		line := func(domain, host string, daysAgo int, lifetime int64, since, label string) string {
			ts := renewalAt(daysAgo)
			return fmt.Sprintf("domain=%s host=%s _time=%s age_hours=%s since_renewal=%s lifetime_hours=%s lifetime=%s",
				domain, host, ts.Format(time.RFC3339), ff(float64(fluxNow.Sub(ts).Nanoseconds())/3600e9), since, ff(float64(lifetime)/3600), label)
		}
		equalLines(t, "renewal ages", cols(rows, "domain", "host", "_time", "age_hours", "since_renewal", "lifetime_hours", "lifetime"), []string{
			line("legacy.example.test", "beta", 110, lifetime90, "110d 7h", "90d"),
			line("www.shop.example.test", "alpha", 58, lifetime90, "58d 7h", "90d"),
			line("shop.example.test", "alpha", 58, lifetime90, "58d 7h", "90d"),
			line("blog.example.test", "beta", 55, lifetime45, "55d 7h", "45d"),
			line("new.example.test", "delta", 50, lifetime64, "50d 7h", "64d"),
			line("oldhook.example.test", "gamma", 40, 0, "40d 7h", "unknown"),
			line("api.example.test", "alpha", 28, lifetime45, "28d 7h", "45d"),
		})
	})

	t.Run("renewals_per_host", func(t *testing.T) {
		rows := run(t, "flux/renewals_per_host.flux", fluxNow, map[string]string{"start": "-120d"})
		perHost := map[string][]string{}
		days := map[string]int{}
		for _, r := range rows {
			days[r["host"]]++
			if r["_value"] != "0" {
				perHost[r["host"]] = append(perHost[r["host"]], r["_time"][:10]+"="+r["_value"])
			}
			if r["_value"] == "" {
				t.Errorf("host %s %s: null count (want 0 on days without renewals)", r["host"], r["_time"])
			}
		}
		d := func(n int) string { return renewalAt(n).Format("2006-01-02") }
		equalLines(t, "alpha", perHost["alpha"], []string{d(118) + "=3", d(88) + "=1", d(58) + "=3", d(28) + "=1"})
		equalLines(t, "beta", perHost["beta"], []string{d(115) + "=1", d(110) + "=1", d(85) + "=1", d(55) + "=1"})
		equalLines(t, "gamma", perHost["gamma"], []string{d(100) + "=1", d(40) + "=1"})
		// One row per UTC day touched by the 120-day range: 121 (the first and last are partial).
		for _, h := range []string{"alpha", "beta", "delta", "gamma"} {
			if days[h] != 121 {
				t.Errorf("host %s: %d daily rows, want 121", h, days[h])
			}
		}
	})

	t.Run("expiry_soonest", func(t *testing.T) {
		rows := run(t, "flux/expiry_soonest.flux", fluxNow, nil)
		equalLines(t, "soonest", cols(rows, "namespace", "pod", "address", "port", "domain", "status", "hours_left", "left", "lifetime", "share_left"), []string{
			"namespace=shop pod=web-2 address=127.0.0.4 port=443 domain=shop.example.test status=expired hours_left=-48 left=-2d 0h lifetime=90d share_left=" + ff(-48/(float64(lifetime90)/3600)),
			"namespace= pod= address=127.0.0.12 port=443 domain=short.example.test status=valid hours_left=60 left=60h lifetime=160h share_left=" + ff(60/(float64(160*3600-1)/3600)),
			"namespace= pod= address=127.0.0.11 port=8443 domain=old.example.test status=valid hours_left=240 left=10d 0h lifetime=45d share_left=" + ff(240/(float64(lifetime45)/3600)),
			"namespace=api pod=api-0 address=127.0.0.5 port=8443 domain=api.example.test status=valid hours_left=480 left=20d 0h lifetime=90d share_left=" + ff(480/(float64(lifetime90)/3600)),
			"namespace=api pod=api-1 address=127.0.0.6 port=8443 domain=api.example.test status=valid hours_left=480 left=20d 0h lifetime=90d share_left=" + ff(480/(float64(lifetime90)/3600)),
			"namespace=shop pod=web-0 address=127.0.0.2 port=443 domain=shop.example.test status=valid hours_left=1200 left=50d 0h lifetime=90d share_left=" + ff(1200/(float64(lifetime90)/3600)),
			"namespace=shop pod=web-1 address=127.0.0.3 port=443 domain=shop.example.test status=valid hours_left=1200 left=50d 0h lifetime=90d share_left=" + ff(1200/(float64(lifetime90)/3600)),
		})
		limited := run(t, "flux/expiry_soonest.flux", fluxNow, map[string]string{"limitN": "2"})
		equalLines(t, "limitN = 2", cols(limited, "address"), []string{"address=127.0.0.4", "address=127.0.0.12"})
	})

	t.Run("probes_by_status", func(t *testing.T) {
		rows := run(t, "flux/probes_by_status.flux", fluxNow, nil)
		// web-2 was valid 7 minutes ago and is expired now: it counts once, as expired.
		equalLines(t, "status counts", cols(rows, "status", "probes"), []string{
			"status=expired probes=1",
			"status=unreachable probes=1",
			"status=valid probes=6",
		})
	})

	t.Run("bad_replicas", func(t *testing.T) {
		rows := run(t, "flux/bad_replicas.flux", fluxNow, nil)
		// web-2 serves another certificate than web-0 and web-1; api-0 and api-1 agree.
		equalLines(t, "bad replicas", cols(rows, "namespace", "domain", "port", "fingerprint", "pods", "sharing", "replicas", "certificates"), []string{
			"namespace=shop domain=shop.example.test port=443 fingerprint=bb pods=web-2 sharing=1 replicas=3 certificates=2",
			"namespace=shop domain=shop.example.test port=443 fingerprint=aa pods=web-0 web-1 sharing=2 replicas=3 certificates=2",
		})
	})

	// Every queryFlux body, run as Kapacitor would run it: Kapacitor turns group-key columns
	// into tags and the others into fields, and cannot convert a null number (its CSV reader
	// fails on it) or a null boolean (it reads it as true), so both are asserted.
	kapacitorRows := func(t *testing.T, tick string) []fluxRow {
		t.Helper()
		bodies := queryFluxBodies(readRepoFile(t, tick))
		if len(bodies) != 1 {
			t.Fatalf("%s: %d queryFlux bodies, want 1", tick, len(bodies))
		}
		body := fluxCSV(t, db.URL, atNow(bodies[0], fluxNow))
		checkGolden(t, tick, body)
		rows, err := parseAnnotatedCSV(body)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			keys := strings.Split(r[groupKey], ",")
			for col, v := range r {
				// An empty string is a value; an empty number or boolean is a null.
				if v == "" && !strings.HasPrefix(col, "#") && !slices.Contains(keys, col) && r[typePrefix+col] != "string" {
					t.Errorf("%s: field %s (%s) is null in %v", tick, col, r[typePrefix+col], r)
				}
			}
		}
		return rows
	}

	t.Run("kapacitor/missed_renewal.tick", func(t *testing.T) {
		rows := kapacitorRows(t, "kapacitor/missed_renewal.tick")
		byDomain(rows)
		equalLines(t, "tags and alert field", cols(rows, groupKey, "domain", "host", "overdue", "since_renewal"), []string{
			"#group=domain,host domain=api.example.test host=alpha overdue=false since_renewal=28d 7h",
			"#group=domain,host domain=blog.example.test host=beta overdue=true since_renewal=55d 7h",
			"#group=domain,host domain=legacy.example.test host=beta overdue=true since_renewal=110d 7h",
			"#group=domain,host domain=new.example.test host=delta overdue=true since_renewal=50d 7h",
			"#group=domain,host domain=oldhook.example.test host=gamma overdue=false since_renewal=40d 7h",
			"#group=domain,host domain=shop.example.test host=alpha overdue=false since_renewal=58d 7h",
			"#group=domain,host domain=www.shop.example.test host=alpha overdue=false since_renewal=58d 7h",
		})
	})

	t.Run("kapacitor/cert_expiry.tick", func(t *testing.T) {
		rows := kapacitorRows(t, "kapacitor/cert_expiry.tick")
		sort.Slice(rows, func(i, j int) bool { return rows[i]["address"] < rows[j]["address"] })
		equalLines(t, "tags and fields", cols(rows, groupKey, "pod", "address", "expiry", "lifetime", "days_left", "hours_left", "lifetime_days", "lifetime_hours", "status"), []string{
			// A static target has no namespace or pod column: no such tags in Kapacitor.
			"#group=address,domain,port,source pod= address=127.0.0.11 expiry=864000 lifetime=3887999 days_left=10 hours_left=240 lifetime_days=" + ff(float64(lifetime45)/86400) + " lifetime_hours=" + ff(float64(lifetime45)/3600) + " status=valid",
			"#group=address,domain,port,source pod= address=127.0.0.12 expiry=216000 lifetime=575999 days_left=2.5 hours_left=60 lifetime_days=" + ff(float64(160*3600-1)/86400) + " lifetime_hours=" + ff(float64(160*3600-1)/3600) + " status=valid",
			"#group=address,domain,namespace,pod,port,source pod=web-0 address=127.0.0.2 expiry=4320000 lifetime=7775999 days_left=50 hours_left=1200 lifetime_days=" + ff(float64(lifetime90)/86400) + " lifetime_hours=" + ff(float64(lifetime90)/3600) + " status=valid",
			"#group=address,domain,namespace,pod,port,source pod=web-1 address=127.0.0.3 expiry=4320000 lifetime=7775999 days_left=50 hours_left=1200 lifetime_days=" + ff(float64(lifetime90)/86400) + " lifetime_hours=" + ff(float64(lifetime90)/3600) + " status=valid",
			"#group=address,domain,namespace,pod,port,source pod=web-2 address=127.0.0.4 expiry=-172800 lifetime=7775999 days_left=-2 hours_left=-48 lifetime_days=" + ff(float64(lifetime90)/86400) + " lifetime_hours=" + ff(float64(lifetime90)/3600) + " status=expired",
			"#group=address,domain,namespace,pod,port,source pod=api-0 address=127.0.0.5 expiry=1728000 lifetime=7775999 days_left=20 hours_left=480 lifetime_days=" + ff(float64(lifetime90)/86400) + " lifetime_hours=" + ff(float64(lifetime90)/3600) + " status=valid",
			"#group=address,domain,namespace,pod,port,source pod=api-1 address=127.0.0.6 expiry=1728000 lifetime=7775999 days_left=20 hours_left=480 lifetime_days=" + ff(float64(lifetime90)/86400) + " lifetime_hours=" + ff(float64(lifetime90)/3600) + " status=valid",
		})
	})

	t.Run("kapacitor/cert_status.tick", func(t *testing.T) {
		rows := kapacitorRows(t, "kapacitor/cert_status.tick")
		sort.Slice(rows, func(i, j int) bool { return rows[i]["address"] < rows[j]["address"] })
		// An unreachable probe has no verified field: its table has no such column.
		equalLines(t, "tags and fields", cols(rows, "address", "status_code", "status", "verified", "verification_error"), []string{
			"address=127.0.0.10 status_code=4 status=unreachable verified= verification_error=",
			"address=127.0.0.11 status_code=0 status=valid verified=false verification_error=x509: certificate signed by unknown authority",
			"address=127.0.0.12 status_code=0 status=valid verified=true verification_error=",
			"address=127.0.0.2 status_code=0 status=valid verified=true verification_error=",
			"address=127.0.0.3 status_code=0 status=valid verified=true verification_error=",
			"address=127.0.0.4 status_code=1 status=expired verified=false verification_error=x509: certificate has expired or is not yet valid",
			"address=127.0.0.5 status_code=0 status=valid verified=true verification_error=",
			"address=127.0.0.6 status_code=0 status=valid verified=true verification_error=",
		})
		if _, ok := rows[0]["verified"]; ok {
			t.Errorf("the unreachable probe's table has a verified column: %v", rows[0])
		}
	})

	t.Run("kapacitor/cert_deadman.tick", func(t *testing.T) {
		rows := kapacitorRows(t, "kapacitor/cert_deadman.tick")
		sort.Slice(rows, func(i, j int) bool { return rows[i]["host"] < rows[j]["host"] })
		equalLines(t, "rows per host", cols(rows, groupKey, "host", "rows", "_time"), []string{
			// web-2's row of 7 minutes ago is outside the 5-minute window.
			"#group=host host=telegraf-a rows=3 _time=2026-11-20T10:30:00Z",
			"#group=host host=telegraf-b rows=5 _time=2026-11-20T10:30:00Z",
		})
	})
}
