package plugin

import (
	"testing"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
)

func TestKeyType(t *testing.T) {
	for kt, want := range map[testcerts.KeyType]string{testcerts.ECDSA: "ECDSA-P256", testcerts.RSA2048: "RSA-2048", testcerts.Ed25519: "Ed25519"} {
		leaf := must(testcerts.SelfSigned(testcerts.Options{DNSNames: []string{"k.test"}, NotBefore: now, NotAfter: now.Add(day), KeyType: kt}))
		if got := keyType(leaf.Cert); got != want {
			t.Errorf("key type %q: got %q, want %q", kt, got, want)
		}
	}
}

func TestSecondsTruncateTowardZero(t *testing.T) {
	for d, want := range map[float64]int64{0.9: 0, -0.9: 0, 1.5: 1, -1.5: -1} {
		if got := seconds(durationOf(d)); got != want {
			t.Errorf("seconds(%vs) = %d, want %d", d, got, want)
		}
	}
}
