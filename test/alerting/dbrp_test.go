package alerting

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// writeLinesRP writes line protocol to one retention policy of db.
func writeLinesRP(t testing.TB, influxURL, db, rp string, lines []string) {
	t.Helper()
	u := influxURL + "/write?" + url.Values{"db": {db}, "rp": {rp}, "precision": {"ns"}}.Encode()
	resp, err := http.Post(u, "text/plain", strings.NewReader(strings.Join(lines, "\n")+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write to %s.%s: %s", db, rp, resp.Status)
	}
}

// TestKapacitorInfluxQLDatabaseVars defines the InfluxQL tasks on kapacitord 1.5.9 with their
// db and rp variables set to another database and retention policy: the tasks alert on the
// rows there and ignore those in telegraf.autogen.
func TestKapacitorInfluxQLDatabaseVars(t *testing.T) {
	testenv.RequireIntegration(t)
	for _, srv := range influxServers {
		t.Run(srv.name, func(t *testing.T) {
			db := srv.start(t)
			influxQL(t, db.URL, `CREATE DATABASE "telegraf"`)
			influxQL(t, db.URL, `CREATE DATABASE "metrics"`)
			influxQL(t, db.URL, `CREATE RETENTION POLICY "four_weeks" ON "metrics" DURATION 4w REPLICATION 1`)
			k := testenv.StartKapacitor(t, db.URL)
			logs := map[string]string{}
			for _, task := range []string{"cert_status", "cert_expiry"} {
				logs[task] = filepath.Join(t.TempDir(), task+".log")
				k.DefineBatch(t, task, filepath.Join(repoRoot(t), "kapacitor", "influxql", task+".tick"), "metrics.four_weeks", map[string]testenv.KapacitorVar{
					"db":       {Type: "string", Value: "metrics"},
					"rp":       {Type: "string", Value: "four_weeks"},
					"period":   {Type: "duration", Value: "1h"},
					"every":    {Type: "duration", Value: "1s"},
					"log_file": {Type: "string", Value: logs[task]},
				})
			}
			now := time.Now()
			// Decoys in the default database: a task still reading it would alert on them.
			writeLines(t, db.URL, "telegraf", []string{
				failedRow(staticOld, "unreachable", 4, now),
				validRow(staticShort, 1, now),
			})
			writeLinesRP(t, db.URL, "metrics", "four_weeks", []string{
				failedRow(staticLB, "unreachable", 4, now),
				validRow(podWeb0, 2, now),
			})
			waitForEvents(t, logs["cert_status"], 1)
			waitForEvents(t, logs["cert_expiry"], 1)
			settle(t, k, "cert_status", 3*2)
			settle(t, k, "cert_expiry", 3*1)
			sameSet(t, "cert_status", readAlertLog(t, logs["cert_status"]), []string{
				"CRITICAL CRITICAL: probe of shop.example.test on 127.0.0.10:443 is unreachable",
			})
			sameSet(t, "cert_expiry", readAlertLog(t, logs["cert_expiry"]), []string{
				"CRITICAL CRITICAL: certificate for shop.example.test served by pod shop/web-0 (127.0.0.2:443) expires in 2.0 days (lifetime 90 days)",
			})
		})
	}
}
