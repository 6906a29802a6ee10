package alerting

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// The InfluxQL TICKscripts run for real: kapacitord 1.5.9 polls a real InfluxDB (Debian's
// 1.6.7 and 1.8.3 built from the proxy), we write points that should and should not alert,
// and the alert log must hold exactly the expected alerts and recoveries.

// influxServers are the InfluxDB versions every InfluxQL task is run against.
var influxServers = []struct {
	name  string
	start func(testing.TB) *testenv.InfluxDB
}{
	{"influxdb-1.6.7", func(t testing.TB) *testenv.InfluxDB { return testenv.StartInfluxDB16(t, testenv.InfluxDBOptions{}) }},
	{"influxdb-1.8.3", func(t testing.TB) *testenv.InfluxDB { return testenv.StartInfluxDB18(t, testenv.InfluxDBOptions{}) }},
}

// alertEvent is what Kapacitor's .log() handler writes, one JSON object per line.
type alertEvent struct {
	ID            string `json:"id"`
	Message       string `json:"message"`
	Level         string `json:"level"`
	PreviousLevel string `json:"previousLevel"`
}

// short is how the tests compare events: "LEVEL message".
func (e alertEvent) short() string { return e.Level + " " + e.Message }

func readAlertLog(t testing.TB, path string) []alertEvent {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []alertEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e alertEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("alert log line %q: %v", sc.Text(), err)
		}
		events = append(events, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return events
}

// waitForEvents polls the alert log until it holds n events, or fails after a bounded wait
// (the tasks query every second, so this is many query cycles).
func waitForEvents(t testing.TB, path string, n int) []alertEvent {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		events := readAlertLog(t, path)
		if len(events) >= n {
			return events
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert log %s: want %d events, have %d within 60 s: %v", path, n, len(events), events)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// alertCollected reads how many points the task's alert node has evaluated (one per group per
// query; for a deadman, one per group per interval).
func alertCollected(t testing.TB, k *testenv.Kapacitor, task string) int {
	t.Helper()
	resp, err := http.Get(k.URL + "/kapacitor/v1/tasks/" + task)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
		Stats struct {
			NodeStats map[string]map[string]any `json:"node-stats"`
		} `json:"stats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Error != "" {
		t.Fatalf("task %s: %s", task, body.Error)
	}
	for name, stats := range body.Stats.NodeStats {
		if strings.HasPrefix(name, "alert") {
			if n, ok := stats["collected"].(float64); ok {
				return int(n)
			}
		}
	}
	t.Fatalf("task %s: no alert node with a collected count in %v", task, body.Stats.NodeStats)
	return 0
}

// settle lets the task's alert node evaluate n more points, so that an alert that should not
// fire has had its chance to.
func settle(t testing.TB, k *testenv.Kapacitor, task string, n int) {
	t.Helper()
	start := alertCollected(t, k, task)
	deadline := time.Now().Add(60 * time.Second)
	for alertCollected(t, k, task) < start+n {
		if time.Now().After(deadline) {
			t.Fatalf("task %s: its alert node evaluated fewer than %d points in 60 s", task, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// probe is one cert_expiry row's identity.
type probe struct {
	namespace, pod, address, port, domain string
}

func (p probe) line(status string, code int, fields string, ts time.Time) string {
	tags := "address=" + p.address + ",domain=" + p.domain + ",host=telegraf-a"
	if p.pod != "" {
		tags += ",namespace=" + p.namespace + ",node=node-1,pod=" + p.pod
	}
	source := "static"
	if p.pod != "" {
		source = "kubernetes"
	}
	tags += ",port=" + p.port + ",source=" + source + ",status=" + status
	if fields != "" {
		fields = "," + fields
	}
	return fmt.Sprintf("cert_expiry,%s status_code=%di%s %d", tags, code, fields, ts.UnixNano())
}

func validRow(p probe, expiryDays float64, ts time.Time) string {
	exp := int64(expiryDays * 86400)
	status, code := "valid", 0
	if exp < 0 {
		status, code = "expired", 1
	}
	verr := ""
	if exp < 0 {
		verr = "x509: certificate has expired or is not yet valid"
	}
	return p.line(status, code, fmt.Sprintf(`expiry=%di,lifetime=7776000i,verified=%t,verification_error="%s",hostname_match=true,fingerprint_sha256="f-%s",handshake_ms=1.5`, exp, exp >= 0, verr, p.pod+p.address), ts)
}

// untrustedRow is a valid certificate whose chain does not verify (unknown issuer).
func untrustedRow(p probe, expiryDays float64, ts time.Time) string {
	return p.line("valid", 0, fmt.Sprintf(`expiry=%di,lifetime=7776000i,verified=false,verification_error="x509: certificate signed by unknown authority",hostname_match=true,fingerprint_sha256="f-%s",handshake_ms=1.5`, int64(expiryDays*86400), p.pod+p.address), ts)
}

func failedRow(p probe, status string, code int, ts time.Time) string {
	return p.line(status, code, `error="dial tcp `+p.address+`:`+p.port+`: connect: connection refused",handshake_ms=0.1`, ts)
}

// startTask brings up InfluxDB + kapacitord and defines/enables one InfluxQL task from
// kapacitor/influxql with fast test timings; it returns the alert log path.
func startTask(t *testing.T, start func(testing.TB) *testenv.InfluxDB, task string, vars map[string]testenv.KapacitorVar) (*testenv.InfluxDB, *testenv.Kapacitor, string) {
	t.Helper()
	db := start(t)
	influxQL(t, db.URL, `CREATE DATABASE "telegraf"`)
	k := testenv.StartKapacitor(t, db.URL)
	logPath := filepath.Join(t.TempDir(), task+".log")
	vars["log_file"] = testenv.KapacitorVar{Type: "string", Value: logPath}
	vars["every"] = testenv.KapacitorVar{Type: "duration", Value: "1s"}
	k.DefineBatch(t, task, filepath.Join(repoRoot(t), "kapacitor", "influxql", task+".tick"), "telegraf.autogen", vars)
	return db, k, logPath
}

func shorts(events []alertEvent) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.short())
	}
	return out
}

// sameSet compares two phases of events where the order within one query's batch is not
// defined (groups are evaluated in map order).
func sameSet(t testing.TB, phase string, got []alertEvent, want []string) {
	t.Helper()
	g := shorts(got)
	slices.Sort(g)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s:\ngot  %q\nwant %q", phase, g, w)
	}
}

var (
	podWeb0     = probe{"shop", "web-0", "127.0.0.2", "443", "shop.example.test"}
	podWeb1     = probe{"shop", "web-1", "127.0.0.3", "443", "shop.example.test"}
	podWeb2     = probe{"shop", "web-2", "127.0.0.4", "443", "shop.example.test"}
	podAPI0     = probe{"api", "api-0", "127.0.0.5", "8443", "api.example.test"}
	podAPI1     = probe{"api", "api-1", "127.0.0.6", "8443", "api.example.test"}
	staticLB    = probe{"", "", "127.0.0.10", "443", "shop.example.test"}
	staticOld   = probe{"", "", "127.0.0.11", "8443", "old.example.test"}
	staticShort = probe{"", "", "127.0.0.12", "443", "short.example.test"}
)

// servedRow is a valid served certificate of the given lifetime, age seconds after its
// notBefore.
func servedRow(p probe, lifetime, age int64, ts time.Time) string {
	exp := lifetime - age
	status, code, verr := "valid", 0, ""
	if exp < 0 {
		status, code, verr = "expired", 1, "x509: certificate has expired or is not yet valid"
	}
	return p.line(status, code, fmt.Sprintf(`expiry=%di,lifetime=%di,verified=%t,verification_error="%s",hostname_match=true,fingerprint_sha256="f-%s",handshake_ms=1.5`, exp, lifetime, exp >= 0, verr, p.address+p.port), ts)
}

// expiryMessage is the expiry task's message for a certificate of the given lifetime with
// expiry seconds left: hours for lifetimes under 10 days, days otherwise.
func expiryMessage(level string, p probe, expiry, lifetime int64) string {
	left := fmt.Sprintf("%.1f days (lifetime %.0f days)", float64(expiry)/86400, float64(lifetime)/86400)
	if lifetime < 864000 {
		left = fmt.Sprintf("%.1f hours (lifetime %.0f hours)", float64(expiry)/3600, float64(lifetime)/3600)
	}
	return fmt.Sprintf("%s %s: certificate for %s served by %s:%s expires in %s", level, level, p.domain, p.address, p.port, left)
}

// servedProbe is one static probe of the expiry test: a certificate of a lifetime at an age.
type servedProbe struct {
	p             probe
	lifetime, age int64
}

func (s servedProbe) expiry() int64 { return s.lifetime - s.age }

// TestKapacitorInfluxQLExpiry runs kapacitor/influxql/cert_expiry.tick on kapacitord 1.5.9:
// for each lifetime from 160 hours to 200 days, a probe in the hour before and in the hour of
// each level's first alert pins that hour; probes at every stage of healthy renewal cadences
// raise nothing; renewals recover; and the fixed thresholds of warn_days / crit_days still work.
func TestKapacitorInfluxQLExpiry(t *testing.T) {
	testenv.RequireIntegration(t)
	const hour = int64(3600)
	var probes []servedProbe
	want := map[string]string{} // probe address:port → "LEVEL message" of its first alert
	for i, c := range alertLifetimes {
		l := c.lifetime - 1 // as Let's Encrypt issues them
		for j, step := range []struct {
			hour  int64
			level string
		}{{c.warnHour - 1, ""}, {c.warnHour, "WARNING"}, {c.critHour - 1, "WARNING"}, {c.critHour, "CRITICAL"}} {
			sp := servedProbe{probe{"", "", fmt.Sprintf("127.0.1.%d", i+1), strconv.Itoa(1000 + j), c.name + ".example.test"}, l, step.hour * hour}
			probes = append(probes, sp)
			if step.level != "" {
				want[sp.p.address+":"+sp.p.port] = expiryMessage(step.level, sp.p, sp.expiry(), l)
			}
		}
	}
	// Healthy cadences: 160-hour certificates renewed every 80 hours, 90-day ones at day 60,
	// each up to 12 hours late (certbot's timer).
	for age := int64(0); age <= 92; age += 4 {
		probes = append(probes, servedProbe{probe{"", "", "127.0.2.1", strconv.Itoa(2000 + int(age)), "short.example.test"}, 160*hour - 1, age * hour})
	}
	for age := int64(0); age <= 60*24+12; age += 2 * 24 {
		probes = append(probes, servedProbe{probe{"", "", "127.0.2.2", strconv.Itoa(3000 + int(age)), "classic.example.test"}, lifetime90, age * hour})
	}
	// The fixed thresholds, computed independently: WARNING below 21 days, CRITICAL below 7.
	fixed := func(sp servedProbe) string {
		switch e := sp.expiry(); {
		case e < 7*86400:
			return expiryMessage("CRITICAL", sp.p, e, sp.lifetime)
		case e < 21*86400:
			return expiryMessage("WARNING", sp.p, e, sp.lifetime)
		}
		return ""
	}

	for _, srv := range influxServers {
		t.Run(srv.name, func(t *testing.T) {
			db, k, logPath := startTask(t, srv.start, "cert_expiry", map[string]testenv.KapacitorVar{
				"period": {Type: "duration", Value: "1h"},
			})
			fixedLog := filepath.Join(t.TempDir(), "cert_expiry_fixed.log")
			k.DefineBatch(t, "cert_expiry_fixed", filepath.Join(repoRoot(t), "kapacitor", "influxql", "cert_expiry.tick"), "telegraf.autogen", map[string]testenv.KapacitorVar{
				"period":    {Type: "duration", Value: "1h"},
				"every":     {Type: "duration", Value: "1s"},
				"log_file":  {Type: "string", Value: fixedLog},
				"warn_days": {Type: "int", Value: 21},
				"crit_days": {Type: "int", Value: 7},
			})
			now := time.Now()
			var lines []string
			for _, sp := range probes {
				lines = append(lines, servedRow(sp.p, sp.lifetime, sp.age, now))
			}
			lines = append(lines, failedRow(staticLB, "unreachable", 4, now)) // no expiry field: not this task's business
			writeLines(t, db.URL, "telegraf", lines)

			var wantFirst, wantFixed []string
			for _, sp := range probes {
				if w, ok := want[sp.p.address+":"+sp.p.port]; ok {
					wantFirst = append(wantFirst, w)
				}
				if w := fixed(sp); w != "" {
					wantFixed = append(wantFixed, w)
				}
			}
			first := waitForEvents(t, logPath, len(wantFirst))
			settle(t, k, "cert_expiry", 3*len(probes))
			sameSet(t, "first alerts", readAlertLog(t, logPath), wantFirst)
			for _, e := range first {
				if e.PreviousLevel != "OK" {
					t.Errorf("%s: previousLevel %q, want OK", e.ID, e.PreviousLevel)
				}
			}
			if got := first[0].ID; !strings.HasPrefix(got, "cert_expiry:") {
				t.Errorf("alert id %q: want the task name first", got)
			}
			waitForEvents(t, fixedLog, len(wantFixed))
			settle(t, k, "cert_expiry_fixed", 3*len(probes))
			sameSet(t, "fixed thresholds", readAlertLog(t, fixedLog), wantFixed)

			// The critical 160-hour and the warning 90-day certificates are renewed (OK); the
			// newest classic one jumps to expired (CRITICAL); the others are unchanged.
			later := now.Add(time.Second)
			short, classic := probes[3], probes[13]
			if short.p.domain != "160h.example.test" || classic.p.domain != "90d.example.test" || classic.age != 1620*hour {
				t.Fatalf("probe order changed: %v %v", short, classic)
			}
			healthy := probes[len(alertLifetimes)*4]
			writeLines(t, db.URL, "telegraf", []string{
				servedRow(short.p, short.lifetime, 2*hour, later),
				servedRow(classic.p, classic.lifetime, 24*hour, later),
				servedRow(healthy.p, healthy.lifetime, healthy.lifetime+hour, later),
			})
			waitForEvents(t, logPath, len(wantFirst)+3)
			settle(t, k, "cert_expiry", 3*len(probes))
			events := readAlertLog(t, logPath)
			if len(events) != len(wantFirst)+3 {
				t.Fatalf("want exactly %d events, got %d: %q", len(wantFirst)+3, len(events), shorts(events))
			}
			sameSet(t, "after renewals", events[len(wantFirst):], []string{
				expiryMessage("OK", short.p, short.lifetime-2*hour, short.lifetime),
				expiryMessage("OK", classic.p, classic.lifetime-24*hour, classic.lifetime),
				expiryMessage("CRITICAL", healthy.p, -hour, healthy.lifetime),
			})
		})
	}
}

func TestKapacitorInfluxQLStatus(t *testing.T) {
	testenv.RequireIntegration(t)
	for _, srv := range influxServers {
		t.Run(srv.name, func(t *testing.T) {
			db, k, logPath := startTask(t, srv.start, "cert_status", map[string]testenv.KapacitorVar{
				"period": {Type: "duration", Value: "1h"},
			})
			now := time.Now()
			writeLines(t, db.URL, "telegraf", []string{
				validRow(podWeb0, 60, now),
				validRow(podWeb1, 60, now),
				podWeb2.line("not_found", 3, `expiry=5184000i,verified=false,hostname_match=false`, now),
				validRow(staticOld, -1, now), // expired
				failedRow(staticLB, "unreachable", 4, now),
				podAPI0.line("timeout", 6, `error="handshake timeout"`, now),
				untrustedRow(podAPI1, 60, now), // valid, but the chain does not verify: WARNING
			})
			waitForEvents(t, logPath, 5)
			settle(t, k, "cert_status", 3*7)
			sameSet(t, "first alerts", readAlertLog(t, logPath), []string{
				"WARNING WARNING: probe of api.example.test on pod api/api-1 (127.0.0.6:8443) is valid, but its chain does not verify: x509: certificate signed by unknown authority",
				"CRITICAL CRITICAL: probe of shop.example.test on pod shop/web-2 (127.0.0.4:443) is not_found",
				"CRITICAL CRITICAL: probe of old.example.test on 127.0.0.11:8443 is expired",
				"CRITICAL CRITICAL: probe of shop.example.test on 127.0.0.10:443 is unreachable",
				"CRITICAL CRITICAL: probe of api.example.test on pod api/api-0 (127.0.0.5:8443) is timeout",
			})

			// The load balancer answers again and web-2 gets the right certificate; web-1 breaks;
			// api-1 now sends its intermediate.
			later := now.Add(time.Second)
			writeLines(t, db.URL, "telegraf", []string{
				validRow(staticLB, 60, later),
				validRow(podWeb2, 60, later),
				podWeb1.line("handshake_failed", 5, `error="remote error: tls: handshake failure"`, later),
				validRow(podAPI1, 60, later),
			})
			waitForEvents(t, logPath, 9)
			settle(t, k, "cert_status", 3*7)
			events := readAlertLog(t, logPath)
			if len(events) != 9 {
				t.Fatalf("want exactly 9 events, got %d: %q", len(events), shorts(events))
			}
			sameSet(t, "after changes", events[5:], []string{
				"OK OK: probe of api.example.test on pod api/api-1 (127.0.0.6:8443) is valid",
				"OK OK: probe of shop.example.test on 127.0.0.10:443 is valid",
				"OK OK: probe of shop.example.test on pod shop/web-2 (127.0.0.4:443) is valid",
				"CRITICAL CRITICAL: probe of shop.example.test on pod shop/web-1 (127.0.0.3:443) is handshake_failed",
			})
		})
	}
}

// writer writes one cert_expiry row for a host every 200 ms until stopped.
type writer struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func startWriter(t testing.TB, influxURL, host string) *writer {
	w := &writer{stop: make(chan struct{}), done: make(chan struct{})}
	p := probe{"", "", "127.0.0.20", "443", host + ".example.test"}
	t.Cleanup(w.Stop)
	go func() {
		defer close(w.done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			line := strings.Replace(validRow(p, 60, time.Now()), "host=telegraf-a", "host="+host, 1)
			// A failed write is a missed row, which is what the deadman is about; the
			// assertions on the alert log catch any consequence.
			_ = postLines(influxURL, "telegraf", []string{line})
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// Stop stops the writer and waits for it; safe to call more than once.
func (w *writer) Stop() { w.once.Do(func() { close(w.stop) }); <-w.done }

func TestKapacitorInfluxQLDeadman(t *testing.T) {
	testenv.RequireIntegration(t)
	for _, srv := range influxServers {
		t.Run(srv.name, func(t *testing.T) {
			db, k, logPath := startTask(t, srv.start, "cert_deadman", map[string]testenv.KapacitorVar{
				"period":   {Type: "duration", Value: "2s"},
				"interval": {Type: "duration", Value: "2s"},
			})
			// Two Telegraf hosts report; host-b keeps reporting throughout and must never alert.
			a := startWriter(t, db.URL, "host-a")
			startWriter(t, db.URL, "host-b")
			settle(t, k, "cert_deadman", 2*3)
			if events := readAlertLog(t, logPath); len(events) != 0 {
				t.Fatalf("no alert expected while both hosts report, got %q", shorts(events))
			}

			a.Stop() // host-a's Telegraf dies
			waitForEvents(t, logPath, 1)
			a = startWriter(t, db.URL, "host-a") // and comes back
			waitForEvents(t, logPath, 2)
			a.Stop()
			events := readAlertLog(t, logPath)
			want := []string{
				"CRITICAL CRITICAL: cert_expiry from host host-a stopped arriving",
				"OK OK: cert_expiry from host host-a is arriving again",
			}
			if got := shorts(events); !slices.Equal(got, want) {
				t.Errorf("alert log:\ngot  %q\nwant %q", got, want)
			}
			if events[0].ID != "cert_deadman:host-a" {
				t.Errorf("id %q, want cert_deadman:host-a", events[0].ID)
			}
		})
	}
}

// TestKapacitorInfluxQLMissedRenewal runs kapacitor/influxql/missed_renewal.tick on
// kapacitord 1.5.9: for each lifetime from 160 hours to 200 days, a certificate renewed (and
// never again) the hour before and the hour of its first alert pins that hour; certificates
// at every stage of healthy cadences raise nothing; the fallback without a lifetime fires at
// 62 days; and a renewal recovers.
func TestKapacitorInfluxQLMissedRenewal(t *testing.T) {
	testenv.RequireIntegration(t)
	const hour = int64(3600)
	type renewed struct {
		host, domain string
		lifetime     int64 // 0: a hook that sends no lifetime
		age          time.Duration
	}
	var certs []renewed
	var wantCrit []string // domains
	for _, c := range alertLifetimes {
		for _, step := range []struct {
			suffix string
			hour   int64
		}{{"-before", c.warnHour - 1}, {"-at", c.warnHour}} {
			d := c.name + step.suffix + ".example.test"
			certs = append(certs, renewed{"epsilon", d, c.lifetime - 1, time.Duration(step.hour) * time.Hour})
			if step.suffix == "-at" {
				wantCrit = append(wantCrit, d)
			}
		}
	}
	for age := int64(0); age <= 92; age += 4 {
		certs = append(certs, renewed{"shortlived", fmt.Sprintf("s%03d.example.test", age), 160*hour - 1, time.Duration(age) * time.Hour})
	}
	for age := int64(0); age <= 60*24+12; age += 4 * 24 {
		certs = append(certs, renewed{"classic", fmt.Sprintf("c%04d.example.test", age), lifetime90, time.Duration(age) * time.Hour})
	}
	certs = append(certs,
		renewed{"gamma", "oldhook-40d.example.test", 0, 40 * 24 * time.Hour},
		renewed{"gamma", "oldhook-63d.example.test", 0, 63 * 24 * time.Hour},
	)
	wantCrit = append(wantCrit, "oldhook-63d.example.test")

	for _, srv := range influxServers {
		t.Run(srv.name, func(t *testing.T) {
			db, k, logPath := startTask(t, srv.start, "missed_renewal", map[string]testenv.KapacitorVar{})
			now := time.Now()
			var lines []string
			for _, c := range certs {
				// age is counted from notBefore; certbot reported the renewal an hour later.
				lines = append(lines, hookLines(t, c.host, []string{c.domain}, now.Add(-c.age+issuedBefore), c.lifetime)...)
			}
			writeLines(t, db.URL, "telegraf", lines)
			waitForEvents(t, logPath, len(wantCrit))
			settle(t, k, "missed_renewal", 3*len(certs))
			events := readAlertLog(t, logPath)
			var got []string
			for _, e := range events {
				if e.Level != "CRITICAL" {
					t.Errorf("unexpected %s", e.short())
				}
				got = append(got, strings.TrimPrefix(strings.SplitN(e.ID, "@", 2)[0], "missed_renewal:"))
			}
			slices.Sort(got)
			w := slices.Clone(wantCrit)
			slices.Sort(w)
			if !slices.Equal(got, w) {
				t.Errorf("CRITICAL for\n  %q\nwant\n  %q", got, w)
			}
			// The messages, for one short-lived and one 90-day certificate and the fallback.
			for _, want := range []string{
				"CRITICAL: certificate 160h-at.example.test on host epsilon was last renewed 106.0 hours ago and expires in 53.0 hours (lifetime 160 hours)",
				"CRITICAL: certificate 90d-at.example.test on host epsilon was last renewed 67.5 days ago and expires in 22.5 days (lifetime 90 days)",
				"CRITICAL: certificate oldhook-63d.example.test on host gamma was last renewed 63.0 days ago (lifetime unknown: overdue 62 days after a renewal)",
			} {
				if !slices.Contains(shorts(events), "CRITICAL "+want) {
					t.Errorf("no alert %q in %q", want, shorts(events))
				}
			}

			// 90d-at is renewed: it recovers; nothing else changes.
			writeLines(t, db.URL, "telegraf", hookLines(t, "epsilon", []string{"90d-at.example.test"}, time.Now(), lifetime90))
			waitForEvents(t, logPath, len(wantCrit)+1)
			settle(t, k, "missed_renewal", 3*len(certs))
			events = readAlertLog(t, logPath)
			if len(events) != len(wantCrit)+1 {
				t.Fatalf("want %d events, got %q", len(wantCrit)+1, shorts(events))
			}
			if e := events[len(events)-1]; e.Level != "OK" || !strings.HasPrefix(e.Message, "OK: certificate 90d-at.example.test on host epsilon was last renewed 0.0 days ago and expires in 90.0 days") {
				t.Errorf("recovery: %s", e.short())
			}
		})
	}
}
