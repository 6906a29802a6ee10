package probe

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"sync"
	"time"
)

// verifyCacheSize bounds the chains one verifyCache remembers. Replicas of one workload serve
// the same chain, so a gather meets few distinct chains; a fleet where every pod serves its
// own certificate fills the cache, and the probes past it are verified as if there were none.
// At ≈ 100 bytes an entry, the bound keeps the cache under half a megabyte.
const verifyCacheSize = 4096

// verifyCache remembers which served chains verified for which name, so that a gather over
// many replicas serving one certificate checks its signatures once rather than once per
// replica (verifying was a quarter of the prober's CPU in its benchmark). Only successes are
// kept, each with the span of time in which the chain it verified through is valid: a success
// at one instant holds at any other instant inside that span, since nothing else Verify checks
// (signatures, names, key usages, constraints) depends on the time. Outside the span the chain
// is verified afresh. Failures are not kept: they are the rare case, and most fail before any
// signature is checked. A verifyCache lives for one Stream call, and is safe for concurrent
// use.
type verifyCache struct {
	mu      sync.Mutex
	entries map[chainKey]validSpan
	hits    int // lookups answered from the cache, for tests
}

// validSpan is when a verified chain is valid: from the latest NotBefore to the earliest
// NotAfter of its certificates, both included (as crypto/x509 judges them).
type validSpan struct{ from, until time.Time }

func newVerifyCache() *verifyCache {
	return &verifyCache{entries: map[chainKey]validSpan{}}
}

// chainKey identifies a served chain and the name it is verified for (see verifyKey).
type chainKey [sha256.Size]byte

// verifyKey identifies a served chain (every certificate, in the order sent) and the name it
// is verified for. Lengths are hashed in front of each part, so no two inputs share a key.
func verifyKey(name string, chain []*x509.Certificate) chainKey {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(name)))
	h.Write(n[:])
	h.Write([]byte(name))
	for _, c := range chain {
		binary.BigEndian.PutUint64(n[:], uint64(len(c.Raw)))
		h.Write(n[:])
		h.Write(c.Raw)
	}
	var key chainKey
	h.Sum(key[:0])
	return key
}

// verified reports whether the chain under key verified at an instant whose span includes at.
func (c *verifyCache) verified(key chainKey, at time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	span, ok := c.entries[key]
	if !ok || at.Before(span.from) || at.After(span.until) {
		return false
	}
	c.hits++
	return true
}

// remember records that the chain under key verified through chain (as returned by
// x509.Certificate.Verify, leaf first, root last). A full cache keeps what it has.
func (c *verifyCache) remember(key chainKey, chain []*x509.Certificate) {
	if len(chain) == 0 {
		return
	}
	span := validSpan{from: chain[0].NotBefore, until: chain[0].NotAfter}
	for _, cert := range chain[1:] {
		if cert.NotBefore.After(span.from) {
			span.from = cert.NotBefore
		}
		if cert.NotAfter.Before(span.until) {
			span.until = cert.NotAfter
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok || len(c.entries) < verifyCacheSize {
		c.entries[key] = span
	}
}

// hitCount returns how many lookups the cache answered.
func (c *verifyCache) hitCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits
}
