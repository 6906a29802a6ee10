package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/duration"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

var now = time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func certFields(leaf *testcerts.Leaf, chainEnd time.Time, verified bool, verifyErr string, hostnameMatch bool) map[string]any {
	c := leaf.Cert
	fp := sha256.Sum256(c.Raw)
	return map[string]any{
		"expiry":             int64(c.NotAfter.Sub(now) / time.Second),
		"age":                int64(now.Sub(c.NotBefore) / time.Second),
		"lifetime":           int64(c.NotAfter.Sub(c.NotBefore) / time.Second),
		"not_before":         c.NotBefore.Unix(),
		"not_after":          c.NotAfter.Unix(),
		"chain_expiry":       int64(chainEnd.Sub(now) / time.Second),
		"verified":           verified,
		"verification_error": verifyErr,
		"hostname_match":     hostnameMatch,
		"issuer":             c.Issuer.String(),
		"subject":            c.Subject.String(),
		"serial":             c.SerialNumber.Text(16),
		"fingerprint_sha256": hex.EncodeToString(fp[:]),
		"key_type":           "ECDSA-P256",
		"tls_version":        "TLS 1.3",
	}
}

// TestGatherStaticTargets runs the plugin's whole path — Init, Start, Gather, Stop — against
// real TLS listeners and asserts every row exactly.
func TestGatherStaticTargets(t *testing.T) {
	root := must(testcerts.NewCA("Test Root", now.Add(-365*day), now.Add(3650*day)))
	// The intermediate expires before the leaf: chain_expiry must show the intermediate's date.
	inter := must(root.Intermediate("Short Intermediate", now.Add(-365*day), now.Add(20*day)))
	good := must(inter.Issue(testcerts.Options{CommonName: "shop.test", DNSNames: []string{"shop.test"}, NotBefore: now.Add(-10 * day), NotAfter: now.Add(80 * day)}))
	expired := must(inter.Issue(testcerts.Options{DNSNames: []string{"shop.test"}, NotBefore: now.Add(-100 * day), NotAfter: now.Add(-2 * day)}))

	goodSrv := must(testcerts.ServeLeaf("127.0.0.1:0", good))
	t.Cleanup(func() { goodSrv.Close() })
	expiredSrv := must(testcerts.ServeLeaf("127.0.0.2:0", expired))
	t.Cleanup(func() { expiredSrv.Close() })
	closed := testenv.FreePort(t)

	c := New()
	c.now = func() time.Time { return now }
	c.Domains = []string{"shop.test"}
	c.CAFile = writeFile(t, "ca.pem", root.CertPEM())
	c.Timeout = duration.Duration(2 * time.Second)
	c.Targets = []StaticTarget{
		{Address: "127.0.0.1", Ports: []int{goodSrv.Port()}, Domains: []string{"shop.test", "admin.test"}},
		{Address: "127.0.0.2", Ports: []int{expiredSrv.Port(), closed}},
	}
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	acc := &metrictest.Accumulator{}
	if err := c.Start(acc); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if err := c.Gather(acc); err != nil {
		t.Fatal(err)
	}
	if len(acc.Errors()) != 0 {
		t.Fatalf("errors: %v", acc.Errors())
	}

	staticTags := func(addr string, port int, domain, status string) map[string]string {
		return map[string]string{"source": "static", "address": addr, "port": strconv.Itoa(port), "domain": domain, "status": status}
	}
	goodFields := certFields(good, inter.Cert.NotAfter, true, "", true)
	goodFields["status_code"] = int64(0)
	wrongDomain := certFields(good, inter.Cert.NotAfter, false, "x509: certificate is valid for shop.test, not admin.test", false)
	wrongDomain["status_code"] = int64(3)
	expiredFields := certFields(expired, expired.Cert.NotAfter, false,
		"x509: certificate has expired (not after 2030-06-13T12:00:00Z)", true)
	expiredFields["status_code"] = int64(1)
	want := []metrictest.Row{
		{Measurement: "cert_expiry", Tags: staticTags("127.0.0.1", goodSrv.Port(), "shop.test", "valid"), Fields: goodFields, Time: now},
		{Measurement: "cert_expiry", Tags: staticTags("127.0.0.1", goodSrv.Port(), "admin.test", "not_found"), Fields: wrongDomain, Time: now},
		{Measurement: "cert_expiry", Tags: staticTags("127.0.0.2", expiredSrv.Port(), "shop.test", "expired"), Fields: expiredFields, Time: now},
		{Measurement: "cert_expiry", Tags: staticTags("127.0.0.2", closed, "shop.test", "unreachable"), Fields: map[string]any{
			"status_code": int64(4),
			"error":       fmt.Sprintf("dial 127.0.0.2:%d: connect: connection refused", closed),
		}, Time: now},
	}
	// Rows arrive as their probes end, in no particular order: put them in the wanted order.
	got := inProbeOrder(t, acc.Measurement("cert_expiry"), want)
	for i := range want {
		// The handshake time is a wall-clock measurement: check it is there and plausible,
		// then compare the rest exactly.
		if i < 3 {
			ms, ok := got[i].Fields["handshake_ms"].(float64)
			if !ok || ms <= 0 || ms > 2000 {
				t.Errorf("row %d: handshake_ms = %#v, want a float in (0, 2000]", i, got[i].Fields["handshake_ms"])
			}
			delete(got[i].Fields, "handshake_ms")
		}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("row %d\n got %v\nwant %v", i, got[i], want[i])
		}
	}
	// chain_expiry is the intermediate's (20 days), below the leaf's expiry (80 days).
	if ce, ex := got[0].Fields["chain_expiry"].(int64), got[0].Fields["expiry"].(int64); ce != 20*86400 || ex != 80*86400 {
		t.Errorf("chain_expiry %d expiry %d, want %d and %d", ce, ex, 20*86400, 80*86400)
	}

	// A second gather reports afresh: nothing is carried over.
	acc2 := &metrictest.Accumulator{}
	if err := c.Gather(acc2); err != nil {
		t.Fatal(err)
	}
	if n := len(acc2.Measurement("cert_expiry")); n != 4 {
		t.Fatalf("second gather: %d rows, want 4", n)
	}
}

// inProbeOrder returns got ordered like want, matching rows by their probe (address, port,
// domain); it fails unless each wanted probe has exactly one row and there are no others.
func inProbeOrder(t *testing.T, got, want []metrictest.Row) []metrictest.Row {
	t.Helper()
	key := func(r metrictest.Row) string {
		return r.Tags["address"] + " " + r.Tags["port"] + " " + r.Tags["domain"]
	}
	byProbe := map[string]metrictest.Row{}
	for _, r := range got {
		if _, dup := byProbe[key(r)]; dup {
			t.Fatalf("two rows for probe %s:\n%v", key(r), got)
		}
		byProbe[key(r)] = r
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d:\n%v", len(got), len(want), got)
	}
	out := make([]metrictest.Row, len(want))
	for i, w := range want {
		r, ok := byProbe[key(w)]
		if !ok {
			t.Fatalf("no row for probe %s; rows:\n%v", key(w), got)
		}
		out[i] = r
	}
	return out
}

// Field types must not depend on the status: InfluxDB rejects a field whose type changes.
func TestFieldTypesAreStableAcrossStatuses(t *testing.T) {
	root := must(testcerts.NewCA("Root", now.Add(-day), now.Add(365*day)))
	leaf := must(root.Issue(testcerts.Options{DNSNames: []string{"a.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(day)}))
	srv := must(testcerts.ServeLeaf("127.0.0.1:0", leaf))
	t.Cleanup(func() { srv.Close() })
	c := New()
	c.now = func() time.Time { return now }
	c.Domains = []string{"a.test", "b.test"}
	c.Targets = []StaticTarget{{Address: "127.0.0.1", Ports: []int{srv.Port(), testenv.FreePort(t)}}}
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	acc := &metrictest.Accumulator{}
	if err := c.Gather(acc); err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	statuses := map[string]bool{}
	for _, r := range acc.Measurement("cert_expiry") {
		statuses[r.Tags["status"]] = true
		for k, v := range r.Fields {
			ty := fmt.Sprintf("%T", v)
			if prev, ok := types[k]; ok && prev != ty {
				t.Errorf("field %s is %s in one row and %s in another", k, prev, ty)
			}
			types[k] = ty
		}
	}
	var seen []string
	for s := range statuses {
		seen = append(seen, s)
	}
	sort.Strings(seen)
	if fmt.Sprint(seen) != "[not_found unreachable valid]" {
		t.Fatalf("statuses seen %v, want valid, not_found and unreachable", seen)
	}
}

// A target that accepts and never handshakes cannot hold a gather past gather_timeout: its row
// reports the timeout.
func TestGatherBudgetBoundsHangingTarget(t *testing.T) {
	silent := must(testcerts.ServeSilent("127.0.0.1:0"))
	t.Cleanup(func() { silent.Close() })
	port := silent.Port()
	c := New()
	c.now = func() time.Time { return now }
	c.Domains = []string{"slow.test"}
	c.Timeout = duration.Duration(time.Minute)
	c.GatherTimeout = duration.Duration(200 * time.Millisecond)
	c.Targets = []StaticTarget{{Address: "127.0.0.1", Ports: []int{port}}}
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	acc := &metrictest.Accumulator{}
	if err := c.Gather(acc); err != nil {
		t.Fatal(err)
	}
	rows := acc.Measurement("cert_expiry")
	if len(rows) != 1 {
		t.Fatalf("%d rows, want 1", len(rows))
	}
	delete(rows[0].Fields, "handshake_ms")
	want := metrictest.Row{Measurement: "cert_expiry", Time: now,
		Tags:   map[string]string{"source": "static", "address": "127.0.0.1", "port": strconv.Itoa(port), "domain": "slow.test", "status": "timeout"},
		Fields: map[string]any{"status_code": int64(6), "error": fmt.Sprintf("handshake 127.0.0.1:%d: context deadline exceeded", port)}}
	if !reflect.DeepEqual(rows[0], want) {
		t.Fatalf("got %v\nwant %v", rows[0], want)
	}
}
