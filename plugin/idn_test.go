package plugin

import (
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
)

// An internationalised domain is probed in its A-label form, the one certificates carry, and
// its rows keep the domain as configured.
func TestGatherInternationalisedDomain(t *testing.T) {
	root := must(testcerts.NewCA("Test Root", now.Add(-365*day), now.Add(3650*day)))
	leaf := must(root.Issue(testcerts.Options{DNSNames: []string{"xn--bcher-kva.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(30 * day)}))
	srv := must(testcerts.ServeLeaf("127.0.0.1:0", leaf))
	t.Cleanup(func() { srv.Close() })
	c := New()
	c.now = func() time.Time { return now }
	c.Domains = []string{"bücher.test"}
	c.TLSCA = writeFile(t, "ca.pem", root.CertPEM())
	c.Targets = []StaticTarget{{Address: "127.0.0.1", Ports: []int{srv.Port()}}}
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
	rows := acc.Measurement("cert_expiry")
	if len(rows) != 1 {
		t.Fatalf("%d rows, want 1: %v", len(rows), rows)
	}
	r := rows[0]
	if r.Tags["domain"] != "bücher.test" || r.Tags["status"] != "valid" || r.Fields["verified"] != true || r.Fields["hostname_match"] != true {
		t.Fatalf("row %v: want domain bücher.test, status valid, verified and matching", r)
	}
	if sni := srv.SNI(); len(sni) != 1 || sni[0] != "xn--bcher-kva.test" {
		t.Fatalf("server saw SNI %q, want [xn--bcher-kva.test]", sni)
	}
}
