package renewal

import (
	"testing"
	"time"
)

// BenchmarkLines encodes a renewal of a 100-name certificate (certbot's maximum per
// certificate is 100 names).
func BenchmarkLines(b *testing.B) {
	domains := make([]string, 100)
	for i := range domains {
		domains[i] = "www" + string(rune('a'+i%26)) + ".example.com"
	}
	r := Renewal{Host: "web 1", Domains: domains, Tags: map[string]string{"env": "prod"},
		Cert: &Cert{NotBefore: time.Unix(1795330800, 0), NotAfter: time.Unix(1803106799, 0)}, Time: time.Unix(0, 1795335563914642600)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Lines(r); err != nil {
			b.Fatal(err)
		}
	}
}
