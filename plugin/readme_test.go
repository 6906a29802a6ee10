package plugin

import (
	"os"
	"strings"
	"testing"
)

// The README's configuration block must be sample.conf verbatim, as Telegraf's own plugin
// READMEs are (the `toml @sample.conf` fence).
func TestReadmeEmbedsSampleConf(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	const fence = "```toml @sample.conf\n"
	start := strings.Index(string(readme), fence)
	if start < 0 {
		t.Fatal("README.md has no ```toml @sample.conf block")
	}
	body := string(readme)[start+len(fence):]
	end := strings.Index(body, "```")
	if end < 0 {
		t.Fatal("unterminated sample.conf block")
	}
	if body[:end] != sampleConfig {
		t.Fatalf("README.md's sample.conf block differs from sample.conf; copy sample.conf into it")
	}
}
