package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// InfluxDB is a real influxd started for one test, on a loopback port, with its data in the
// test's temp dir.
type InfluxDB struct {
	URL     string // http://127.0.0.1:PORT
	Process *Process
	binary  string
	config  string
}

// InfluxDBOptions selects the server.
type InfluxDBOptions struct {
	// Flux enables the Flux engine (/api/v2/query); only influxd 1.8 has it.
	Flux bool
	// AuthEnabled turns on [http] auth-enabled; create the admin user with a query before use.
	AuthEnabled bool
}

// StartInfluxDB16 starts Debian's influxd 1.6.7 (package influxdb); another version fails the
// test.
func StartInfluxDB16(t testing.TB, opts InfluxDBOptions) *InfluxDB {
	t.Helper()
	return startInfluxDB(t, Command(t, "influxd", "influxdb"), opts)
}

// StartInfluxDB18 starts influxd 1.8.3 built from the module proxy (it has Flux and
// /api/v2/write); a binary built from another version fails the test.
func StartInfluxDB18(t testing.TB, opts InfluxDBOptions) *InfluxDB {
	t.Helper()
	bin := Binary(t, "influxd18")
	requireModuleVersion(t, bin, "github.com/influxdata/influxdb", "v"+InfluxDB18Version)
	return startInfluxDB(t, bin, opts)
}

func startInfluxDB(t testing.TB, binary string, opts InfluxDBOptions) *InfluxDB {
	t.Helper()
	dir := t.TempDir()
	addr := FreeAddr(t)
	cfg := fmt.Sprintf(`reporting-disabled = true
bind-address = %q
[meta]
  dir = %q
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
[http]
  enabled = true
  bind-address = %q
  auth-enabled = %t
  log-enabled = false
  flux-enabled = %t
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
`, FreeAddr(t), filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), addr, opts.AuthEnabled, opts.Flux)
	cfgPath := filepath.Join(dir, "influxdb.conf")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	db := &InfluxDB{URL: "http://" + addr, binary: binary, config: cfgPath}
	db.start(t)
	return db
}

func (db *InfluxDB) start(t testing.TB) {
	t.Helper()
	db.Process = Start(t, db.binary, "-config", db.config)
	// influxd 1.8 with Flux takes ≈ 12 s to answer; 1.6 ≈ 0.1 s.
	WaitHTTP(t, db.Process, db.URL+"/ping", 204, 60*time.Second)
}

// Stop stops the server, keeping its data.
func (db *InfluxDB) Stop() { db.Process.Stop() }

// Restart starts the stopped server again on the same port with the same data.
func (db *InfluxDB) Restart(t testing.TB) {
	t.Helper()
	db.Process.Stop()
	db.start(t)
}
