package certbot

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

var domains = []string{"test.example", "www.test.example"}

// renewalEnv is what certbot passes a deploy hook (and nothing else).
func renewalEnv(c cert) map[string]string {
	return map[string]string{"RENEWED_DOMAINS": strings.Join(domains, " "), "RENEWED_LINEAGE": c.lineage}
}

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// onlyTimestamp checks that points carry one timestamp, inside the run, and returns it.
func onlyTimestamp(t *testing.T, points []string, r result) time.Time {
	t.Helper()
	ts := timestamps(points)
	if len(ts) != 1 {
		t.Fatalf("want one timestamp, got %v in %q", ts, points)
	}
	var ns int64
	for _, c := range ts[0] {
		ns = ns*10 + int64(c-'0')
	}
	at := time.Unix(0, ns)
	if at.Before(r.start) || at.After(r.end) {
		t.Fatalf("timestamp %v outside the hook's run [%v, %v]", at, r.start, r.end)
	}
	return at
}

// TestInfluxDB16 writes to a real InfluxDB 1.6.7 with authentication on, reads the points
// back, and checks what users see when the server refuses the write.
func TestInfluxDB16(t *testing.T) {
	testenv.RequireIntegration(t)
	db := testenv.StartInfluxDB16(t, testenv.InfluxDBOptions{AuthEnabled: true})
	influxQuery(t, db.URL, "", "", "", "CREATE USER admin WITH PASSWORD 'adm1n' WITH ALL PRIVILEGES")
	influxQuery(t, db.URL, "", "admin", "adm1n", "CREATE DATABASE telegraf")
	// A password with characters a shell or Telegraf's $VAR expansion would mangle.
	influxQuery(t, db.URL, "", "admin", "adm1n", `CREATE USER certbot WITH PASSWORD 'pa$$ w:rd'`)
	influxQuery(t, db.URL, "", "admin", "adm1n", "GRANT WRITE ON telegraf TO certbot")
	influxQuery(t, db.URL, "", "admin", "adm1n", "CREATE DATABASE other")

	dir := t.TempDir()
	nb := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	c := writeLineage(t, dir, nb, nb.Add(45*24*time.Hour), domains...)
	cfg := writeConfig(t, dir, `url = "`+db.URL+`"
database = "telegraf"
retention_policy = "autogen"
username = "certbot"
password = "pa$$ w:rd"
host = "web 1"
retries = 1
retry_backoff = "100ms"
`)
	base := with(renewalEnv(c), "CERTEXPIRY_HOOK_CONFIG", cfg)

	t.Run("basic auth", func(t *testing.T) {
		env := with(base, "CERTEXPIRY_HOOK_SPOOL", filepath.Join(t.TempDir(), "spool.lp"))
		r := runHook(t, env)
		if r.code != 0 || r.stderr != "" || r.stdout != "certbot-hook: delivered 3 lines to "+db.URL+"/write\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		got := influxPoints(t, db.URL, "telegraf", "admin", "adm1n")
		at := onlyTimestamp(t, got, r)
		if want := expected("web 1", c, at, domains...); !equal(got, want) {
			t.Fatalf("InfluxDB holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if b, _ := os.ReadFile(env["CERTEXPIRY_HOOK_SPOOL"]); len(b) != 0 {
			t.Errorf("spool not emptied: %q", b)
		}
		influxQuery(t, db.URL, "telegraf", "admin", "adm1n", "DROP MEASUREMENT certbot_renewal")
	})

	t.Run("query auth", func(t *testing.T) {
		env := with(base, "CERTEXPIRY_HOOK_SPOOL", filepath.Join(t.TempDir(), "spool.lp"), "CERTEXPIRY_HOOK_V1_AUTH", "query")
		r := runHook(t, env)
		if r.code != 0 || r.stderr != "" || r.stdout != "certbot-hook: delivered 3 lines to "+db.URL+"/write\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		got := influxPoints(t, db.URL, "telegraf", "admin", "adm1n")
		if want := expected("web 1", c, onlyTimestamp(t, got, r), domains...); !equal(got, want) {
			t.Fatalf("InfluxDB holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		influxQuery(t, db.URL, "telegraf", "admin", "adm1n", "DROP MEASUREMENT certbot_renewal")
	})

	// 4xx answers are not retried; the user sees the server's own explanation, and the lines
	// stay spooled for when the settings are fixed.
	for _, tc := range []struct {
		name string
		kv   []string
		want string
	}{
		{"wrong password", []string{"CERTEXPIRY_HOOK_PASSWORD", "nope"}, `/write answered 401 Unauthorized: {"error":"authorization failed"}`},
		{"no such database", []string{"CERTEXPIRY_HOOK_DATABASE", "nope"}, `/write answered 404 Not Found: {"error":"database not found: \"nope\""}`},
		{"no write permission", []string{"CERTEXPIRY_HOOK_DATABASE", "other"}, `/write answered 403 Forbidden: {"error":"\"certbot\" user is not authorized to write to database \"other\""}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := filepath.Join(t.TempDir(), "spool.lp")
			r := runHook(t, with(base, append([]string{"CERTEXPIRY_HOOK_SPOOL", sp}, tc.kv...)...))
			want := "certbot-hook: " + db.URL + tc.want + "\n" +
				"certbot-hook: 3 lines stay in " + sp + " for the next run (or `telegraf-certexpiry certbot-hook flush`)\n"
			if r.code != 1 || r.stderr != want {
				t.Fatalf("exit %d, stderr\n%s\nwant\n%s", r.code, r.stderr, want)
			}
			if b, _ := os.ReadFile(sp); strings.Count(string(b), "\n") != 3 {
				t.Errorf("spool %q", b)
			}
		})
	}
}

// TestInfluxDB16Outage: the database is down for two renewals; both stay spooled (exit 1);
// once it is back, the next renewal delivers all three, oldest first, each exactly once.
func TestInfluxDB16Outage(t *testing.T) {
	testenv.RequireIntegration(t)
	db := testenv.StartInfluxDB16(t, testenv.InfluxDBOptions{})
	influxQuery(t, db.URL, "", "", "", "CREATE DATABASE telegraf")
	dir := t.TempDir()
	nb := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	c := writeLineage(t, dir, nb, nb.Add(64*24*time.Hour), domains...)
	sp := filepath.Join(dir, "spool", "certbot.lp")
	cfg := writeConfig(t, dir, `url = "`+db.URL+`"
database = "telegraf"
host = "web-1"
spool = "`+sp+`"
retries = 1
retry_backoff = "100ms"
`)
	env := with(renewalEnv(c), "CERTEXPIRY_HOOK_CONFIG", cfg)
	addr := strings.TrimPrefix(db.URL, "http://")

	db.Stop()
	var spooled []byte
	for i, n := range []int{3, 6} {
		r := runHook(t, env)
		refused := "posting to " + db.URL + "/write: dial tcp " + addr + ": connect: connection refused"
		want := "certbot-hook: attempt 1 failed, retrying in 100ms: " + refused + "\n" +
			"certbot-hook: 2 attempts failed, last: " + refused + "\n" +
			"certbot-hook: " + strconv.Itoa(n) + " lines stay in " + sp + " for the next run (or `telegraf-certexpiry certbot-hook flush`)\n"
		if r.code != 1 || r.stderr != want {
			t.Fatalf("renewal %d while down: exit %d, stderr\n%s\nwant\n%s", i+1, r.code, r.stderr, want)
		}
		var err error
		if spooled, err = os.ReadFile(sp); err != nil {
			t.Fatal(err)
		}
	}
	db.Restart(t)
	r := runHook(t, env)
	if r.code != 0 || r.stderr != "" || r.stdout != "certbot-hook: delivered 9 lines to "+db.URL+"/write\n" {
		t.Fatalf("renewal after restart: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	got := influxPoints(t, db.URL, "telegraf", "", "")
	// The two spooled renewals (as written while down) and the third, nothing more.
	want := normalize(t, spooled)
	third := filterOut(got, want)
	at := onlyTimestamp(t, third, r)
	want = append(want, expected("web-1", c, at, domains...)...)
	sort.Strings(want)
	if !equal(got, want) {
		t.Fatalf("InfluxDB holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ts := timestamps(got); len(ts) != 3 {
		t.Fatalf("want three renewals, got timestamps %v", ts)
	}
	if b, _ := os.ReadFile(sp); len(b) != 0 {
		t.Errorf("spool not emptied: %q", b)
	}
}

// TestInfluxDB18V2Write posts to InfluxDB 1.8.3's /api/v2/write (standing in for InfluxDB 2's
// API): bucket "db/rp", token "user:password".
func TestInfluxDB18V2Write(t *testing.T) {
	testenv.RequireIntegration(t)
	db := testenv.StartInfluxDB18(t, testenv.InfluxDBOptions{AuthEnabled: true})
	influxQuery(t, db.URL, "", "", "", "CREATE USER admin WITH PASSWORD 'adm1n' WITH ALL PRIVILEGES")
	influxQuery(t, db.URL, "", "admin", "adm1n", "CREATE DATABASE telegraf")
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("admin:adm1n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nb := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	c := writeLineage(t, dir, nb, nb.Add(90*24*time.Hour-time.Second), domains...)
	cfg := writeConfig(t, dir, `url = "`+db.URL+`"
api = "v2"
org = "my-org"
bucket = "telegraf/autogen"
token_file = "`+tokenFile+`"
host = "web-2"
spool = "`+filepath.Join(dir, "spool.lp")+`"
retries = 0
`)
	env := with(renewalEnv(c), "CERTEXPIRY_HOOK_CONFIG", cfg)
	r := runHook(t, env)
	if r.code != 0 || r.stderr != "" || r.stdout != "certbot-hook: delivered 3 lines to "+db.URL+"/api/v2/write\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	got := influxPoints(t, db.URL, "telegraf", "admin", "adm1n")
	if want := expected("web-2", c, onlyTimestamp(t, got, r), domains...); !equal(got, want) {
		t.Fatalf("InfluxDB holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	bad := filepath.Join(dir, "bad-token")
	if err := os.WriteFile(bad, []byte("admin:wrong"), 0o600); err != nil {
		t.Fatal(err)
	}
	sp := filepath.Join(t.TempDir(), "spool.lp")
	r = runHook(t, with(env, "CERTEXPIRY_HOOK_TOKEN_FILE", bad, "CERTEXPIRY_HOOK_SPOOL", sp))
	want := "certbot-hook: " + db.URL + `/api/v2/write answered 401 Unauthorized: {"error":"authorization failed"}` + "\n" +
		"certbot-hook: 3 lines stay in " + sp + " for the next run (or `telegraf-certexpiry certbot-hook flush`)\n"
	if r.code != 1 || r.stderr != want {
		t.Fatalf("bad token: exit %d, stderr\n%s\nwant\n%s", r.code, r.stderr, want)
	}
}

// filterOut returns the points of got that are not in known.
func filterOut(got, known []string) []string {
	k := map[string]int{}
	for _, p := range known {
		k[p]++
	}
	var out []string
	for _, p := range got {
		if k[p] > 0 {
			k[p]--
			continue
		}
		out = append(out, p)
	}
	return out
}

// TestConcurrentHooks: several hooks at once on one spool (cron and a manual renew, say). The
// spool lock serialises them: every renewal arrives exactly once and the spool ends empty.
func TestConcurrentHooks(t *testing.T) {
	testenv.RequireIntegration(t)
	db := testenv.StartInfluxDB16(t, testenv.InfluxDBOptions{})
	influxQuery(t, db.URL, "", "", "", "CREATE DATABASE telegraf")
	dir := t.TempDir()
	nb := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	sp := filepath.Join(dir, "spool.lp")
	cfg := writeConfig(t, dir, `url = "`+db.URL+`"
database = "telegraf"
host = "web-4"
spool = "`+sp+`"
`)
	const n = 6
	results := make(chan result, n)
	var certs []cert
	for i := range n {
		c := writeLineage(t, dir, nb, nb.Add(time.Duration(40+i)*24*time.Hour), "site"+strconv.Itoa(i)+".example")
		certs = append(certs, c)
		env := map[string]string{"RENEWED_DOMAINS": "site" + strconv.Itoa(i) + ".example", "RENEWED_LINEAGE": c.lineage, "CERTEXPIRY_HOOK_CONFIG": cfg}
		go func() { results <- runHook(t, env) }()
	}
	for range n {
		if r := <-results; r.code != 0 || r.stderr != "" {
			t.Errorf("a hook failed: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	}
	got := influxPoints(t, db.URL, "telegraf", "", "")
	if len(got) != 2*n {
		t.Fatalf("want %d points (each renewal once), got %d:\n%s", 2*n, len(got), strings.Join(got, "\n"))
	}
	for i, c := range certs {
		d := "site" + strconv.Itoa(i) + ".example"
		lifetime := "lifetime=" + strconv.FormatInt(int64(c.notAfter.Sub(c.notBefore)/time.Second), 10) + "i"
		found := 0
		for _, p := range got {
			if strings.HasPrefix(p, "certbot_renewal domain="+d+" host=web-4 | ") && strings.Contains(p, " "+lifetime+" ") {
				found++
			}
		}
		if found != 1 {
			t.Errorf("%s: %d points with %s, want 1", d, found, lifetime)
		}
	}
	if b, _ := os.ReadFile(sp); len(b) != 0 {
		t.Errorf("spool not emptied: %q", b)
	}
}
