package probe

import (
	"context"
	"crypto/x509"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
)

// sequenceClock returns the instants in order, one per call, then the last one forever.
type sequenceClock struct {
	mu  sync.Mutex
	ats []time.Time
}

func (c *sequenceClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	at := c.ats[0]
	if len(c.ats) > 1 {
		c.ats = c.ats[1:]
	}
	return at
}

// probesTo makes one probe per (server, domain), servers first.
func probesTo(servers []*testcerts.Server, domains ...string) []target.Probe {
	var out []target.Probe
	for _, s := range servers {
		for _, d := range domains {
			tg := &target.Target{Source: target.SourceStatic, Address: "127.0.0.1", Ports: []int{s.Port()}, Domains: []string{d}}
			out = append(out, target.Probe{Target: tg, Port: s.Port(), Domain: d})
		}
	}
	return out
}

// streamAll runs probes one at a time (so that which lookup hits is exact) through cache and
// returns the Results in order.
func streamAll(p *Prober, probes []target.Probe, cache *verifyCache) []Result {
	out := make([]Result, len(probes))
	p.stream(context.Background(), probes, 1, cache, func(i int, r *Result) { out[i] = *r })
	return out
}

func TestStreamChecksAChainOnceForAllItsReplicas(t *testing.T) {
	k := newPKI(t)
	shared := issue(t, k.inter, testcerts.Options{DNSNames: []string{"shop.test", "www.shop.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(60 * day)})
	own := issue(t, k.inter, testcerts.Options{DNSNames: []string{"shop.test", "www.shop.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(60 * day)})
	var servers []*testcerts.Server
	for range 4 {
		servers = append(servers, serveLeaf(t, shared))
	}
	servers = append(servers, serveLeaf(t, own))
	p := New(Config{Roots: k.root.Pool(), Now: func() time.Time { return now }, Timeout: 2 * time.Second})
	cache := newVerifyCache()

	results := streamAll(p, probesTo(servers, "shop.test", "www.shop.test"), cache)

	for i, r := range results {
		if r.Status != StatusValid || !r.Verified || r.VerifyErr != nil {
			t.Errorf("probe %d: status %s, verified %v, error %v; want valid and verified", i, r.Status, r.Verified, r.VerifyErr)
		}
	}
	// Four replicas × two names share two keys: 3 hits each; the fifth server's chain has keys
	// of its own.
	if got := cache.hitCount(); got != 6 {
		t.Errorf("cache answered %d lookups, want 6", got)
	}
	if got := len(cache.entries); got != 4 {
		t.Errorf("cache holds %d chains, want 4 (2 chains × 2 names)", got)
	}
}

func TestCachedVerificationHoldsOnlyWhileTheChainIsValid(t *testing.T) {
	k := newPKI(t)
	// The intermediate expires 10 days from now, before the leaf.
	inter, err := k.root.Intermediate("Short Intermediate", now.Add(-day), now.Add(10*day))
	if err != nil {
		t.Fatal(err)
	}
	leaf := issue(t, inter, testcerts.Options{DNSNames: []string{"shop.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(20 * day)})
	servers := []*testcerts.Server{serveLeaf(t, leaf)}
	clock := &sequenceClock{ats: []time.Time{
		now,                  // verified, remembered
		now.Add(10 * day),    // the intermediate's last instant: still verified, from the cache
		now.Add(10*day + 1),  // past the intermediate: verified afresh, fails
		now.Add(20*day + 1),  // past the leaf
		now.Add(-day - 1),    // before the leaf
		now.Add(5 * day),     // inside again: from the cache
		now.Add(5*day + 1e9), // and again
	}}
	p := New(Config{Roots: k.root.Pool(), Now: clock.now, Timeout: 2 * time.Second})
	cache := newVerifyCache()
	var probes []target.Probe
	for range len(clock.ats) {
		probes = append(probes, probesTo(servers, "shop.test")...)
	}

	results := streamAll(p, probes, cache)

	want := []struct {
		status    Status
		verifyErr string
	}{
		{StatusValid, ""},
		{StatusValid, ""},
		{StatusValid, `x509: authority certificate "Short Intermediate" has expired (not after 2030-06-25T12:00:00Z)`},
		{StatusExpired, "x509: certificate has expired (not after 2030-07-05T12:00:00Z)"},
		{StatusNotYetValid, "x509: certificate is not yet valid (not before 2030-06-14T12:00:00Z)"},
		{StatusValid, ""},
		{StatusValid, ""},
	}
	for i, w := range want {
		r := results[i]
		if r.Status != w.status || errText(r.VerifyErr) != w.verifyErr || r.Verified != (w.verifyErr == "") {
			t.Errorf("probe %d at %s: status %s, verified %v, error %q; want %s, error %q", i, r.At.Format(time.RFC3339Nano), r.Status, r.Verified, errText(r.VerifyErr), w.status, w.verifyErr)
		}
	}
	if got := cache.hitCount(); got != 3 {
		t.Errorf("cache answered %d lookups, want 3", got)
	}
}

func TestCachedVerificationIsPerName(t *testing.T) {
	k := newPKI(t)
	leaf := issue(t, k.inter, testcerts.Options{DNSNames: []string{"shop.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(60 * day)})
	servers := []*testcerts.Server{serveLeaf(t, leaf)}
	p := New(Config{Roots: k.root.Pool(), Now: func() time.Time { return now }, Timeout: 2 * time.Second})
	cache := newVerifyCache()

	results := streamAll(p, probesTo(servers, "shop.test", "other.test", "shop.test"), cache)

	got := fmt.Sprintf("%s %v %q | %s %v %q | %s %v %q",
		results[0].Status, results[0].Verified, errText(results[0].VerifyErr),
		results[1].Status, results[1].Verified, errText(results[1].VerifyErr),
		results[2].Status, results[2].Verified, errText(results[2].VerifyErr))
	want := `valid true "" | not_found false "x509: certificate is valid for shop.test, not other.test" | valid true ""`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if hits := cache.hitCount(); hits != 1 {
		t.Errorf("cache answered %d lookups, want 1", hits)
	}
}

func TestVerifyCacheIsBounded(t *testing.T) {
	k := newPKI(t)
	leaf := issue(t, k.inter, testcerts.Options{DNSNames: []string{"shop.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(60 * day)})
	chain := []*x509.Certificate{leaf.Cert, k.inter.Cert, k.root.Cert}
	c := newVerifyCache()
	for i := range verifyCacheSize {
		c.remember(verifyKey(fmt.Sprint("name-", i), chain), chain)
	}
	extra := verifyKey("one-too-many", chain)
	c.remember(extra, chain)
	if len(c.entries) != verifyCacheSize || c.verified(extra, now) {
		t.Errorf("full cache: %d entries, extra remembered %v; want %d and false", len(c.entries), c.verified(extra, now), verifyCacheSize)
	}
	if !c.verified(verifyKey("name-0", chain), now) {
		t.Error("full cache forgot an entry it had")
	}
}

func TestVerifyKeySeparatesNameFromChain(t *testing.T) {
	k := newPKI(t)
	leaf := issue(t, k.inter, testcerts.Options{DNSNames: []string{"shop.test"}, NotBefore: now.Add(-day), NotAfter: now.Add(60 * day)})
	withInter := []*x509.Certificate{leaf.Cert, k.inter.Cert}
	keys := map[chainKey]string{}
	for name, key := range map[string]chainKey{
		"leaf for shop.test":         verifyKey("shop.test", withInter[:1]),
		"leaf+inter for shop.test":   verifyKey("shop.test", withInter),
		"leaf+inter for shop.test.":  verifyKey("shop.test.", withInter),
		"inter+leaf for shop.test":   verifyKey("shop.test", []*x509.Certificate{k.inter.Cert, leaf.Cert}),
		"leaf+inter for empty name":  verifyKey("", withInter),
		"leaf for shop.testleaf DER": verifyKey("shop.test"+string(leaf.Cert.Raw), nil),
	} {
		if other, ok := keys[key]; ok {
			t.Errorf("%s and %s share a key", name, other)
		}
		keys[key] = name
	}
	again := []*x509.Certificate{leaf.Cert, k.inter.Cert}
	if verifyKey("shop.test", withInter) != verifyKey("shop.test", again) {
		t.Error("the same chain and name gave two keys")
	}
}
