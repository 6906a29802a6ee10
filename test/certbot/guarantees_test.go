package certbot

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// TestInfluxDB16OnlyBadLinesRejected: the spool holds an earlier renewal, a line cut short by
// a crash and a point whose field type conflicts with the database's. Real InfluxDB 1.6.7
// answers the whole batch with 400 (partial write); the hook splits it until only the
// conflicting point is refused, so the earlier and the new renewal end up in the database and
// only the two bad lines in .rejected.
func TestInfluxDB16OnlyBadLinesRejected(t *testing.T) {
	testenv.RequireIntegration(t)
	db := testenv.StartInfluxDB16(t, testenv.InfluxDBOptions{})
	influxQuery(t, db.URL, "", "", "", "CREATE DATABASE telegraf")
	dir := t.TempDir()
	nb := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	c := writeLineage(t, dir, nb, nb.Add(45*24*time.Hour), domains...)
	sp := filepath.Join(dir, "spool", "certbot.lp")
	cfg := writeConfig(t, dir, `url = "`+db.URL+`"
database = "telegraf"
host = "web-1"
spool = "`+sp+`"
retries = 0
`)
	earlierAt := nb.Add(10 * time.Minute)
	var earlier strings.Builder
	for _, p := range expected("web-1", c, earlierAt, domains...) {
		earlier.WriteString(lineOf(p))
	}
	conflict := fmt.Sprintf("certbot_renewal,domain=conflict.example,host=web-1 renewed_count=1i %d\n", earlierAt.Add(time.Minute).UnixNano())
	torn := "certbot_renewal,domain=torn.example,host=web-1 renewed_count=1,not_bef"
	if err := os.MkdirAll(filepath.Dir(sp), 0o770); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sp, []byte(earlier.String()+conflict+torn), 0o660); err != nil {
		t.Fatal(err)
	}

	r := runHook(t, with(renewalEnv(c), "CERTEXPIRY_HOOK_CONFIG", cfg))
	wantErr := "certbot-hook: the spool ended in a line cut short by an earlier crash; moved it to " + sp + ".rejected: \"" + torn + "\"\n" +
		"certbot-hook: " + db.URL + `/write answered 400 Bad Request: {"error":"partial write: field type conflict: input field \"renewed_count\" on measurement \"certbot_renewal\" is type integer, already exists as type float dropped=1"}; 1 lines moved to ` + sp + ".rejected\n"
	if r.code != 1 || r.stdout != "certbot-hook: delivered 6 lines to "+db.URL+"/write\n" || r.stderr != wantErr {
		t.Fatalf("exit %d, stdout %q, stderr\n%s\nwant\n%s", r.code, r.stdout, r.stderr, wantErr)
	}
	got := influxPoints(t, db.URL, "telegraf", "", "")
	want := expected("web-1", c, earlierAt, domains...)
	newest := filterOut(got, want)
	want = append(want, expected("web-1", c, onlyTimestamp(t, newest, r), domains...)...)
	sort.Strings(want)
	if !equal(got, want) {
		t.Fatalf("InfluxDB holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if b, _ := os.ReadFile(sp + ".rejected"); string(b) != torn+"\n"+conflict {
		t.Errorf(".rejected holds %q", b)
	}
	if b, _ := os.ReadFile(sp); len(b) != 0 {
		t.Errorf("spool not emptied: %q", b)
	}
}

// TestInfluxDB16SettingsFixedThenFlush: the password file is missing when certbot renews. The
// renewal is spooled anyway (exit 2); once the file exists, `flush` writes it to the database.
func TestInfluxDB16SettingsFixedThenFlush(t *testing.T) {
	testenv.RequireIntegration(t)
	db := testenv.StartInfluxDB16(t, testenv.InfluxDBOptions{AuthEnabled: true})
	influxQuery(t, db.URL, "", "", "", "CREATE USER admin WITH PASSWORD 'adm1n' WITH ALL PRIVILEGES")
	influxQuery(t, db.URL, "", "admin", "adm1n", "CREATE DATABASE telegraf")
	influxQuery(t, db.URL, "", "admin", "adm1n", "CREATE USER certbot WITH PASSWORD 's3cret'")
	influxQuery(t, db.URL, "", "admin", "adm1n", "GRANT WRITE ON telegraf TO certbot")
	dir := t.TempDir()
	nb := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	c := writeLineage(t, dir, nb, nb.Add(45*24*time.Hour), domains...)
	sp := filepath.Join(dir, "spool", "certbot.lp")
	pw := filepath.Join(dir, "password")
	cfg := writeConfig(t, dir, `url = "`+db.URL+`"
database = "telegraf"
username = "certbot"
password_file = "`+pw+`"
host = "web-1"
spool = "`+sp+`"
`)
	r := runHook(t, with(renewalEnv(c), "CERTEXPIRY_HOOK_CONFIG", cfg))
	want := "certbot-hook: " + cfg + ": password_file: open " + pw + ": no such file or directory\n" +
		"certbot-hook: spooled 3 lines to " + sp + ", but delivered nothing: fix the settings above, then run `telegraf-certexpiry certbot-hook flush`\n"
	if r.code != 2 || r.stdout != "" || r.stderr != want {
		t.Fatalf("exit %d, stdout %q, stderr\n%s\nwant\n%s", r.code, r.stdout, r.stderr, want)
	}
	if got := influxPoints(t, db.URL, "telegraf", "admin", "adm1n"); len(got) != 0 {
		t.Fatalf("InfluxDB holds %q before the fix", got)
	}
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := runHook(t, map[string]string{"CERTEXPIRY_HOOK_CONFIG": cfg}, "flush")
	if f.code != 0 || f.stderr != "" || f.stdout != "certbot-hook: delivered 3 lines to "+db.URL+"/write\n" {
		t.Fatalf("flush: exit %d, stdout %q, stderr %q", f.code, f.stdout, f.stderr)
	}
	got := influxPoints(t, db.URL, "telegraf", "admin", "adm1n")
	if want := expected("web-1", c, onlyTimestamp(t, got, r), domains...); !equal(got, want) {
		t.Fatalf("InfluxDB holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// lineOf turns a normalized point of expected back into line protocol (values are plain).
func lineOf(p string) string {
	parts := strings.Split(p, " | ")
	head := strings.Fields(parts[0])
	return head[0] + "," + strings.Join(head[1:], ",") + " " + strings.ReplaceAll(parts[1], " ", ",") + " " + parts[2] + "\n"
}
