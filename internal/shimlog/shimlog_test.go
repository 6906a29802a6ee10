package shimlog

import (
	"bytes"
	"testing"

	"github.com/influxdata/telegraf/logger"
)

func TestWriterRewritesLines(t *testing.T) {
	cases := []struct {
		name  string
		debug bool
		in    string
		want  string
	}{
		{"timestamp stripped", false, "2026-11-22T08:00:00Z E! [inputs.certexpiry] boom\n", "E! [inputs.certexpiry] boom\n"},
		{"warn kept", false, "2026-11-22T08:00:00Z W! careful\n", "W! careful\n"},
		{"debug dropped", false, "2026-11-22T08:00:00Z D! noisy\n", ""},
		{"debug kept when asked", true, "2026-11-22T08:00:00Z D! noisy\n", "D! noisy\n"},
		{"trace dropped", false, "2026-11-22T08:00:00Z T! noisier\n", ""},
		{"no level is info", false, "plain message\n", "I! plain message\n"},
		{"continuation lines keep the level", false, "2026-11-22T08:00:00Z E! first\nsecond\nthird\n", "E! first\nE! second\nE! third\n"},
		{"already prefixed", false, "I! ready\n", "I! ready\n"},
		{"no trailing newline", false, "2026-11-22T08:00:00+01:00 W! x", "W! x\n"},
		{"not a timestamp", false, "2026-99 E! x\n", "I! 2026-99 E! x\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := NewWriter(&out, tc.debug)
			n, err := w.Write([]byte(tc.in))
			if err != nil || n != len(tc.in) {
				t.Fatalf("Write = %d, %v", n, err)
			}
			if out.String() != tc.want {
				t.Fatalf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
}

// Install must catch the logger the shim hands to plugins, and must not buffer: after it, a
// line is written at once.
func TestInstallRedirectsTelegrafLogger(t *testing.T) {
	var out bytes.Buffer
	Install(&out, false)
	// The shim gives plugins logger.New("", "", ""): no prefix, no attributes.
	l := logger.New("", "", "")
	l.Error("boom")
	l.Debug("hidden")
	l.Warnf("kubernetes: %s", "forbidden")
	want := "E! boom\nW! kubernetes: forbidden\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}
