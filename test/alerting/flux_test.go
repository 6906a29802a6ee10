package alerting

import (
	"bytes"
	"flag"
	"fmt"
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

func (r renewal) lines(t testing.TB) []string {
	t.Helper()
	ts := renewalAt(r.daysAgo).Add(r.after)
	hook := certbotrenewal.Renewal{Host: r.host, Domains: r.domains, Time: ts}
	if r.lifetime > 0 {
		nb := ts.Add(-time.Hour).Truncate(time.Second) // issued an hour before certbot deployed it
		hook.Cert = &certbotrenewal.Cert{NotBefore: nb, NotAfter: nb.Add(time.Duration(r.lifetime) * time.Second)}
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
	row := func(p probe, host string, status string, code int, expiryDays int64, fp string, ts time.Time) string {
		verified, verr := status == "valid", ""
		if !verified {
			verr = "x509: certificate has expired or is not yet valid"
		}
		if p == staticOld { // valid, but its chain does not verify
			verified, verr = false, "x509: certificate signed by unknown authority"
		}
		l := p.line(status, code, fmt.Sprintf(`expiry=%di,fingerprint_sha256="%s",verified=%t,verification_error="%s"`, expiryDays*86400, fp, verified, verr), ts)
		return strings.Replace(l, "host=telegraf-a", "host="+host, 1)
	}
	gonePod := probe{"shop", "web-9", "127.0.0.9", "443", "shop.example.test"}
	return []string{
		row(podWeb0, "telegraf-a", "valid", 0, 50, "aa", at(1)),
		row(podWeb1, "telegraf-a", "valid", 0, 50, "aa", at(1)),
		row(podWeb2, "telegraf-a", "valid", 0, 50, "aa", at(7)),   // web-2 served the right one …
		row(podWeb2, "telegraf-a", "expired", 1, -2, "bb", at(1)), // … then an old one
		row(podAPI0, "telegraf-b", "valid", 0, 20, "cc", at(1)),
		row(podAPI1, "telegraf-b", "valid", 0, 20, "cc", at(1)),
		row(staticOld, "telegraf-b", "valid", 0, 10, "dd", at(1)),
		strings.Replace(failedRow(staticLB, "unreachable", 4, at(1)), "host=telegraf-a", "host=telegraf-b", 1),
		row(gonePod, "telegraf-a", "valid", 0, 1, "ee", at(20)), // deleted pod: outside the window
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

// threshold is the overdue rule's threshold in days, computed as the query does it
// (the conversion keeps Go from fusing the multiply-add, which Flux does not do).
func threshold(lifetime int64) float64 {
	if lifetime == 0 {
		return 62
	}
	return float64(2.0/3.0*(float64(lifetime)/86400.0)) + 2.0
}

func TestFluxOnInfluxDB18(t *testing.T) {
	testenv.RequireIntegration(t)
	db := startFluxInflux(t)
	run := func(t *testing.T, rel string, now time.Time, params map[string]string) []fluxRow {
		t.Helper()
		return fluxQuery(t, db.URL, atNow(setParams(t, readRepoFile(t, rel), params), now))
	}

	t.Run("overdue_renewals/now", func(t *testing.T) {
		rows := run(t, "flux/overdue_renewals.flux", fluxNow, map[string]string{"onlyOverdue": "false"})
		sort.Slice(rows, func(i, j int) bool { return rows[i]["domain"]+rows[i]["host"] < rows[j]["domain"]+rows[j]["host"] })
		line := func(domain, host string, days int, lifetime int64, overdue bool) string {
			return fmt.Sprintf("domain=%s host=%s days_since_renewal=%d lifetime_days=%s threshold_days=%s overdue=%t _time=2026-11-20T00:00:00Z",
				domain, host, days, ff(float64(lifetime)/86400), ff(threshold(lifetime)), overdue)
		}
		equalLines(t, "overdue rows", cols(rows, "domain", "host", "days_since_renewal", "lifetime_days", "threshold_days", "overdue", "_time"), []string{
			line("api.example.test", "alpha", 28, lifetime45, false),
			line("blog.example.test", "beta", 55, lifetime45, true),
			line("legacy.example.test", "beta", 110, lifetime90, true),
			line("new.example.test", "delta", 50, lifetime64, true),
			line("oldhook.example.test", "gamma", 40, 0, false),
			line("shop.example.test", "alpha", 58, lifetime90, false),
			line("www.shop.example.test", "alpha", 58, lifetime90, false),
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

	// The day the rule first fires, pinned for each kind of certificate: now is moved day by
	// day (and to the last second before the firing day's midnight) and the row of the
	// certificate that stopped renewing is read.
	for _, c := range []struct {
		domain, host   string
		renewedDaysAgo int
		firesOnDay     int // days after the renewal's day
	}{
		{"blog.example.test", "beta", 55, 32},     // 45-day: ⅔ × 45 − ε + 2 → day 32
		{"new.example.test", "delta", 50, 45},     // 64-day: ⅔ × 64 + 2 = 44.67 → day 45
		{"legacy.example.test", "beta", 110, 62},  // 90-day: ⅔ × 90 − ε + 2 → day 62
		{"oldhook.example.test", "gamma", 40, 62}, // no lifetime: fixed 62 (in the future of the data)
	} {
		t.Run("overdue_renewals/first_day/"+c.domain, func(t *testing.T) {
			renewedDay := renewalAt(c.renewedDaysAgo).Truncate(24 * time.Hour)
			state := func(now time.Time) (days string, overdue string) {
				rows := run(t, "flux/overdue_renewals.flux", now, map[string]string{"onlyOverdue": "false"})
				for _, r := range rows {
					if r["domain"] == c.domain && r["host"] == c.host {
						return r["days_since_renewal"], r["overdue"]
					}
				}
				t.Fatalf("now %s: no row for %s on %s", now, c.domain, c.host)
				return "", ""
			}
			// The renewal day itself (after the run) and the day after count 0 and 1.
			for d, at := range []time.Time{renewalAt(c.renewedDaysAgo).Add(time.Hour), renewedDay.AddDate(0, 0, 1).Add(time.Minute)} {
				if days, _ := state(at); days != strconv.Itoa(d) {
					t.Errorf("now %s: days_since_renewal %s, want %d", at, days, d)
				}
			}
			for day := c.firesOnDay - 3; day <= c.firesOnDay+2; day++ {
				at := renewedDay.AddDate(0, 0, day).Add(10*time.Hour + 30*time.Minute)
				days, overdue := state(at)
				if days != strconv.Itoa(day) || overdue != strconv.FormatBool(day >= c.firesOnDay) {
					t.Errorf("day %d (%s): days_since_renewal=%s overdue=%s, want %d %t", day, at.Format(time.RFC3339), days, overdue, day, day >= c.firesOnDay)
				}
			}
			// range() excludes its stop, so at midnight exactly the new day has no window yet:
			// the rule fires from the first instant after it.
			midnight := renewedDay.AddDate(0, 0, c.firesOnDay)
			for _, at := range []struct {
				now  time.Time
				want string
			}{{midnight.Add(-time.Second), "false"}, {midnight, "false"}, {midnight.Add(time.Second), "true"}} {
				if _, overdue := state(at.now); overdue != at.want {
					t.Errorf("%s (day %d starts at %s): overdue %s, want %s", at.now.Format(time.RFC3339), c.firesOnDay, midnight.Format(time.RFC3339), overdue, at.want)
				}
			}
		})
	}

	t.Run("overdue_renewals/renewal_recovers", func(t *testing.T) {
		// alpha's api certificate was renewed 58 and 28 days ago: the day before the second
		// renewal it was at day 29 (not overdue: threshold 32), and the renewal reset it.
		for _, c := range []struct {
			daysAgo int
			want    string
		}{{29, "days_since_renewal=29 overdue=false"}, {28, "days_since_renewal=0 overdue=false"}, {27, "days_since_renewal=1 overdue=false"}} {
			now := renewalAt(c.daysAgo).Add(time.Hour)
			rows := run(t, "flux/overdue_renewals.flux", now, map[string]string{"onlyOverdue": "false"})
			var got []string
			for _, r := range rows {
				if r["domain"] == "api.example.test" {
					got = append(got, fmt.Sprintf("days_since_renewal=%s overdue=%s", r["days_since_renewal"], r["overdue"]))
				}
			}
			equalLines(t, now.Format(time.RFC3339), got, []string{c.want})
		}
	})

	t.Run("renewal_age", func(t *testing.T) {
		rows := run(t, "flux/renewal_age.flux", fluxNow, nil)
		age := func(daysAgo int) string { return ff(float64(fluxNow.Sub(renewalAt(daysAgo)).Nanoseconds()) / 86400e9) }
		ts := func(daysAgo int) string { return renewalAt(daysAgo).Format(time.RFC3339) }
		equalLines(t, "renewal ages", cols(rows, "domain", "host", "_time", "age_days", "lifetime_days"), []string{
			"domain=legacy.example.test host=beta _time=" + ts(110) + " age_days=" + age(110) + " lifetime_days=" + ff(float64(lifetime90)/86400),
			"domain=www.shop.example.test host=alpha _time=" + ts(58) + " age_days=" + age(58) + " lifetime_days=" + ff(float64(lifetime90)/86400),
			"domain=shop.example.test host=alpha _time=" + ts(58) + " age_days=" + age(58) + " lifetime_days=" + ff(float64(lifetime90)/86400),
			"domain=blog.example.test host=beta _time=" + ts(55) + " age_days=" + age(55) + " lifetime_days=" + ff(float64(lifetime45)/86400),
			"domain=new.example.test host=delta _time=" + ts(50) + " age_days=" + age(50) + " lifetime_days=" + ff(float64(lifetime64)/86400),
			"domain=oldhook.example.test host=gamma _time=" + ts(40) + " age_days=" + age(40) + " lifetime_days=0",
			"domain=api.example.test host=alpha _time=" + ts(28) + " age_days=" + age(28) + " lifetime_days=" + ff(float64(lifetime45)/86400),
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
		equalLines(t, "soonest", cols(rows, "namespace", "pod", "address", "port", "domain", "status", "days_left"), []string{
			"namespace=shop pod=web-2 address=127.0.0.4 port=443 domain=shop.example.test status=expired days_left=-2",
			"namespace= pod= address=127.0.0.11 port=8443 domain=old.example.test status=valid days_left=10",
			"namespace=api pod=api-0 address=127.0.0.5 port=8443 domain=api.example.test status=valid days_left=20",
			"namespace=api pod=api-1 address=127.0.0.6 port=8443 domain=api.example.test status=valid days_left=20",
			"namespace=shop pod=web-0 address=127.0.0.2 port=443 domain=shop.example.test status=valid days_left=50",
			"namespace=shop pod=web-1 address=127.0.0.3 port=443 domain=shop.example.test status=valid days_left=50",
		})
		limited := run(t, "flux/expiry_soonest.flux", fluxNow, map[string]string{"limitN": "2"})
		equalLines(t, "limitN = 2", cols(limited, "address"), []string{"address=127.0.0.4", "address=127.0.0.11"})
	})

	t.Run("probes_by_status", func(t *testing.T) {
		rows := run(t, "flux/probes_by_status.flux", fluxNow, nil)
		// web-2 was valid 7 minutes ago and is expired now: it counts once, as expired.
		equalLines(t, "status counts", cols(rows, "status", "probes"), []string{
			"status=expired probes=1",
			"status=unreachable probes=1",
			"status=valid probes=5",
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
		sort.Slice(rows, func(i, j int) bool { return rows[i]["domain"]+rows[i]["host"] < rows[j]["domain"]+rows[j]["host"] })
		equalLines(t, "tags and alert field", cols(rows, groupKey, "domain", "host", "overdue", "days_since_renewal"), []string{
			"#group=domain,host domain=api.example.test host=alpha overdue=false days_since_renewal=28",
			"#group=domain,host domain=blog.example.test host=beta overdue=true days_since_renewal=55",
			"#group=domain,host domain=legacy.example.test host=beta overdue=true days_since_renewal=110",
			"#group=domain,host domain=new.example.test host=delta overdue=true days_since_renewal=50",
			"#group=domain,host domain=oldhook.example.test host=gamma overdue=false days_since_renewal=40",
			"#group=domain,host domain=shop.example.test host=alpha overdue=false days_since_renewal=58",
			"#group=domain,host domain=www.shop.example.test host=alpha overdue=false days_since_renewal=58",
		})
	})

	t.Run("kapacitor/cert_expiry.tick", func(t *testing.T) {
		rows := kapacitorRows(t, "kapacitor/cert_expiry.tick")
		sort.Slice(rows, func(i, j int) bool { return rows[i]["address"] < rows[j]["address"] })
		equalLines(t, "tags and fields", cols(rows, groupKey, "pod", "address", "expiry", "days_left", "status"), []string{
			// A static target has no namespace or pod column: no such tags in Kapacitor.
			"#group=address,domain,port,source pod= address=127.0.0.11 expiry=864000 days_left=10 status=valid",
			"#group=address,domain,namespace,pod,port,source pod=web-0 address=127.0.0.2 expiry=4320000 days_left=50 status=valid",
			"#group=address,domain,namespace,pod,port,source pod=web-1 address=127.0.0.3 expiry=4320000 days_left=50 status=valid",
			"#group=address,domain,namespace,pod,port,source pod=web-2 address=127.0.0.4 expiry=-172800 days_left=-2 status=expired",
			"#group=address,domain,namespace,pod,port,source pod=api-0 address=127.0.0.5 expiry=1728000 days_left=20 status=valid",
			"#group=address,domain,namespace,pod,port,source pod=api-1 address=127.0.0.6 expiry=1728000 days_left=20 status=valid",
		})
	})

	t.Run("kapacitor/cert_status.tick", func(t *testing.T) {
		rows := kapacitorRows(t, "kapacitor/cert_status.tick")
		sort.Slice(rows, func(i, j int) bool { return rows[i]["address"] < rows[j]["address"] })
		// An unreachable probe has no verified field: its table has no such column.
		equalLines(t, "tags and fields", cols(rows, "address", "status_code", "status", "verified", "verification_error"), []string{
			"address=127.0.0.10 status_code=4 status=unreachable verified= verification_error=",
			"address=127.0.0.11 status_code=0 status=valid verified=false verification_error=x509: certificate signed by unknown authority",
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
			"#group=host host=telegraf-b rows=4 _time=2026-11-20T10:30:00Z",
		})
	})
}
