package certbot

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// TestCertbotPreviousCertificate: real certbot issues from Pebble and renews twice, running the
// hook each time (spool only). Each renewal names the certificate it replaced from certbot's
// archive: the second renewal writes cert3.pem and reports cert2.pem as previous, not cert1.pem.
// This is what lets a query say "this server still presents the replaced certificate".
func TestCertbotPreviousCertificate(t *testing.T) {
	testenv.RequireIntegration(t)
	a := startPebble(t)
	dir := t.TempDir()
	sp := filepath.Join(dir, "spool", "certbot.lp")
	cfg := writeConfig(t, dir, "host = \"web-prev\"\nspool = \""+sp+"\"\n")
	certbot(t, a, dir, "certonly", "--standalone", "--agree-tos", "--register-unsafely-without-email",
		"--http-01-port", strconv.Itoa(a.httpPort), "--http-01-address", "127.0.0.1", "-d", "test.example")

	archive := filepath.Join(dir, "etc", "archive", "test.example")
	hook := hookBin + " certbot-hook -config " + cfg
	for n := 2; n <= 3; n++ {
		if err := os.Truncate(sp, 0); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		certbot(t, a, dir, "renew", "--force-renewal", "--no-random-sleep-on-renew", "--deploy-hook", hook)
		b, err := os.ReadFile(sp)
		if err != nil {
			t.Fatal(err)
		}
		cur := certOf(readLeaf(t, filepath.Join(archive, "cert"+strconv.Itoa(n)+".pem")))
		prev := certOf(readLeaf(t, filepath.Join(archive, "cert"+strconv.Itoa(n-1)+".pem")))
		if cur.fingerprint == prev.fingerprint {
			t.Fatalf("renewal %d: certbot wrote the same certificate again", n)
		}
		cur.prevFingerprint, cur.prevNotAfter = prev.fingerprint, prev.notAfter
		got := normalize(t, b)
		ts := timestamps(got)
		if len(ts) != 1 {
			t.Fatalf("renewal %d: spool holds %q", n, got)
		}
		var ns int64
		for _, c := range ts[0] {
			ns = ns*10 + int64(c-'0')
		}
		want := expected("web-prev", cur, time.Unix(0, ns), "test.example")
		if !equal(got, want) {
			t.Fatalf("renewal %d: spool holds\n%s\nwant\n%s", n, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
