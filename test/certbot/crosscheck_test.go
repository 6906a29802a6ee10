package certbot

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// recordTickAnswer makes TestStaleCertificateCrossCheck write InfluxDB's answer to
// kapacitor/stale_certificate.tick's query into test/tickcheck/testdata, where Kapacitor's own
// conversion and the task's lambdas and message are run on it.
var recordTickAnswer = flag.Bool("record-tick-answer", false, "write test/tickcheck/testdata/stale_certificate.csv from InfluxDB 1.8.3's answer")

// rowStrings renders rows as "k=v ..." over the given columns, sorted.
func rowStrings(rows []map[string]string, cols ...string) []string {
	var out []string
	for _, r := range rows {
		var parts []string
		for _, c := range cols {
			parts = append(parts, c+"="+r[c])
		}
		out = append(out, strings.Join(parts, " "))
	}
	sort.Strings(out)
	return out
}

func fingerprint(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

// servedNow waits until InfluxDB holds a cert_expiry reading of address taken after `after`,
// and returns that latest reading's not_after (unix seconds).
func servedNow(t *testing.T, p *testenv.Process, db, address string, after time.Time) int64 {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		_, rows := influxQuery(t, db, "telegraf", "", "", fmt.Sprintf(`SELECT last(not_after) FROM cert_expiry WHERE address = '%s' AND time > %d`, address, after.UnixNano()))
		if len(rows) == 1 {
			n, err := strconv.ParseInt(fmt.Sprint(rows[0][1]), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if time.Now().After(deadline) || p.Exited() {
			t.Fatalf("no cert_expiry reading of %s after %v in InfluxDB", address, after)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestStaleCertificateCrossCheck: the whole "renewed, but still serving the old certificate"
// path with real parts. Real certbot issues test.example from Pebble; two TLS servers on
// 127.0.0.1 and 127.0.0.2 load it once at start, as nginx does. A real Telegraf runs the plugin
// (both servers as static targets, and the lineage's cert.pem through the files option) into
// a real InfluxDB 1.8.3. certbot renews, its deploy hook writes certbot_renewal to InfluxDB;
// only 127.0.0.2 is restarted. flux/stale_certificates.flux (grace 45s) then lists
// 127.0.0.1 once the renewal is older than the grace period, not before, and no longer once
// 127.0.0.1 is restarted too. flux/bad_replicas.flux sees the two static servers disagree
// meanwhile.
func TestStaleCertificateCrossCheck(t *testing.T) {
	testenv.RequireIntegration(t)
	telegraf := testenv.Binary(t, "telegraf")
	db := testenv.StartInfluxDB18(t, testenv.InfluxDBOptions{Flux: true})
	influxQuery(t, db.URL, "", "", "", "CREATE DATABASE telegraf")
	a := startPebble(t)
	dir := t.TempDir()
	certbot(t, a, dir, "certonly", "--standalone", "--agree-tos", "--register-unsafely-without-email",
		"--http-01-port", strconv.Itoa(a.httpPort), "--http-01-address", "127.0.0.1", "-d", "test.example")
	live := filepath.Join(dir, "etc", "live", "test.example")
	cert1 := readLeaf(t, filepath.Join(live, "cert.pem"))

	port := testenv.FreePort(t)
	// serve starts a server that reads the lineage's certificate once, now.
	serve := func(ip string) *testcerts.Server {
		pair, err := tls.LoadX509KeyPair(filepath.Join(live, "fullchain.pem"), filepath.Join(live, "privkey.pem"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := testcerts.Serve(net.JoinHostPort(ip, strconv.Itoa(port)), &tls.Config{Certificates: []tls.Certificate{pair}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	stale, fresh := serve("127.0.0.1"), serve("127.0.0.2")
	defer func() { stale.Close(); fresh.Close() }()

	pluginConf := filepath.Join(dir, "certexpiry.conf")
	if err := os.WriteFile(pluginConf, fmt.Appendf(nil, `[[inputs.certexpiry]]
  domains = ["test.example"]
  ports = [%d]
  files = [%q]
  [[inputs.certexpiry.target]]
    address = "127.0.0.1"
  [[inputs.certexpiry.target]]
    address = "127.0.0.2"
`, port, filepath.Join(dir, "etc", "live", "*", "cert.pem")), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "telegraf.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, `[agent]
  interval = "1s"
  flush_interval = "200ms"
  omit_hostname = true
[[inputs.execd]]
  command = [%q, "-config", %q, "-poll_interval_disabled"]
  signal = "STDIN"
  data_format = "influx"
[[outputs.influxdb]]
  urls = [%q]
  database = "telegraf"
  skip_database_creation = true
`, hookBin, pluginConf, db.URL), 0o600); err != nil {
		t.Fatal(err)
	}
	tg := testenv.Start(t, telegraf, "--config", conf)
	start := time.Now()
	for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
		if got := servedNow(t, tg, db.URL, ip, start.Add(-time.Minute)); got != cert1.NotAfter.Unix() {
			t.Fatalf("%s serves not_after %d, want the issued certificate's %d", ip, got, cert1.NotAfter.Unix())
		}
	}

	// Renew; the hook writes straight to InfluxDB. Only 127.0.0.2 is restarted.
	cfg := writeConfig(t, dir, fmt.Sprintf("url = %q\ndatabase = \"telegraf\"\nhost = \"web-1\"\nspool = %q\nretries = 0\n", db.URL, filepath.Join(dir, "spool", "certbot.lp")))
	certbot(t, a, dir, "renew", "--force-renewal", "--no-random-sleep-on-renew", "--deploy-hook", hookBin+" certbot-hook -config "+cfg)
	cert2 := readLeaf(t, filepath.Join(live, "cert.pem"))
	if !cert2.NotAfter.After(cert1.NotAfter) {
		t.Fatalf("renewed certificate's not_after %v is not after the issued one's %v", cert2.NotAfter, cert1.NotAfter)
	}
	fresh.Close()
	fresh = serve("127.0.0.2")
	restarted := time.Now()

	// When the renewed certificate appeared: the earlier of the hook's renewal point and the
	// plugin's first cert_file reading of it (both are stored sources; the query takes the
	// first report).
	_, renewals := influxQuery(t, db.URL, "telegraf", "", "", fmt.Sprintf(`SELECT not_after FROM certbot_renewal WHERE domain = 'test.example' AND not_after = %d`, cert2.NotAfter.Unix()))
	if len(renewals) != 1 {
		t.Fatalf("certbot_renewal rows for the renewed certificate: %v", renewals)
	}
	appearedNS, _ := strconv.ParseInt(fmt.Sprint(renewals[0][0]), 10, 64)
	source := "certbot"
	if got := servedNow(t, tg, db.URL, "127.0.0.2", restarted); got != cert2.NotAfter.Unix() {
		t.Fatalf("restarted 127.0.0.2 serves not_after %d, want the renewed %d", got, cert2.NotAfter.Unix())
	}
	if got := servedNow(t, tg, db.URL, "127.0.0.1", restarted); got != cert1.NotAfter.Unix() {
		t.Fatalf("127.0.0.1 serves not_after %d, want the old %d", got, cert1.NotAfter.Unix())
	}
	_, files := influxQuery(t, db.URL, "telegraf", "", "", fmt.Sprintf(`SELECT first(not_after) FROM cert_file WHERE domain = 'test.example' AND not_after = %d`, cert2.NotAfter.Unix()))
	if len(files) != 1 {
		t.Fatalf("no cert_file reading of the renewed certificate: %v", files)
	}
	if ns, _ := strconv.ParseInt(fmt.Sprint(files[0][0]), 10, 64); ns < appearedNS {
		appearedNS, source = ns, "file"
	}
	appeared := time.Unix(0, appearedNS)

	const grace = 45 * time.Second
	staleQuery := testenv.FluxFile(t, "stale_certificates.flux", "grace", "45s")
	cols := []string{"address", "port", "domain", "namespace", "pod", "served_not_after", "stored_not_after", "source", "stored_domain", "appeared", "stale"}

	// Before the grace period is over: nothing is listed.
	rows := db.FluxRows(t, staleQuery)
	if since := time.Since(appeared); since >= grace {
		t.Fatalf("the machine took %v from renewal to the first query; the grace period (%v) is over already", since, grace)
	}
	if len(rows) != 0 {
		t.Fatalf("listed before the grace period:\n%s", strings.Join(rowStrings(rows, cols...), "\n"))
	}

	// After it: 127.0.0.1, and only it.
	time.Sleep(time.Until(appeared.Add(grace + time.Second)))
	servedNow(t, tg, db.URL, "127.0.0.1", time.Now())
	rfc := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	want := []string{fmt.Sprintf("address=127.0.0.1 port=%d domain=test.example namespace= pod= served_not_after=%s stored_not_after=%s source=%s stored_domain=test.example appeared=%s stale=true",
		port, rfc(cert1.NotAfter), rfc(cert2.NotAfter), source, rfc(appeared))}
	if got := rowStrings(db.FluxRows(t, staleQuery), cols...); !equal(got, want) {
		t.Fatalf("stale_certificates after the grace period:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// As the alert task sees it: every backend, the restarted one not stale.
	answer := db.FluxAnswer(t, testenv.FluxFile(t, "stale_certificates.flux", "grace", "45s", "onlyStale", "false"))
	if *recordTickAnswer {
		if err := os.WriteFile(filepath.Join(testenv.RepoRoot(t), "test", "tickcheck", "testdata", "stale_certificate.csv"), answer, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	all := rowStrings(testenv.ParseFluxCSV(t, answer), "address", "stale")
	if w := []string{"address=127.0.0.1 stale=true", "address=127.0.0.2 stale=false"}; !equal(all, w) {
		t.Errorf("onlyStale = false: %q, want %q", all, w)
	}
	// The two static servers disagree: bad_replicas names each by its address.
	brCols := []string{"namespace", "domain", "port", "fingerprint", "pods", "sharing", "replicas", "certificates"}
	wantBR := []string{
		fmt.Sprintf("namespace= domain=test.example port=%d fingerprint=%s pods=127.0.0.1 sharing=1 replicas=2 certificates=2", port, fingerprint(cert1.Raw)),
		fmt.Sprintf("namespace= domain=test.example port=%d fingerprint=%s pods=127.0.0.2 sharing=1 replicas=2 certificates=2", port, fingerprint(cert2.Raw)),
	}
	sort.Strings(wantBR)
	if got := rowStrings(db.FluxRows(t, testenv.FluxFile(t, "bad_replicas.flux")), brCols...); !equal(got, wantBR) {
		t.Errorf("bad_replicas:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantBR, "\n"))
	}

	// Restarted: it loads the renewed certificate and drops off the list.
	stale.Close()
	stale = serve("127.0.0.1")
	if got := servedNow(t, tg, db.URL, "127.0.0.1", time.Now()); got != cert2.NotAfter.Unix() {
		t.Fatalf("restarted 127.0.0.1 serves not_after %d, want %d", got, cert2.NotAfter.Unix())
	}
	if rows := db.FluxRows(t, staleQuery); len(rows) != 0 {
		t.Errorf("listed after restart:\n%s", strings.Join(rowStrings(rows, cols...), "\n"))
	}
	if rows := db.FluxRows(t, testenv.FluxFile(t, "bad_replicas.flux")); len(rows) != 0 {
		t.Errorf("bad_replicas after restart:\n%s", strings.Join(rowStrings(rows, brCols...), "\n"))
	}
}
