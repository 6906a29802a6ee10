// Package duration is the one duration type of every TOML file this project reads (the plugin
// config, its kubernetes table, the certbot hook's settings), so that "30s" means the same
// everywhere and a bad value fails the same way.
//
// Not Telegraf's config.Duration: that one reads "10" as ten seconds and reports a bad value
// with time.ParseDuration's bare text; this one requires a unit and says how to write one.
package duration

import (
	"fmt"
	"time"
)

// Duration is a time.Duration written in TOML as a Go duration string: "500ms", "10s",
// "1m30s". An empty string is zero. Bare numbers are refused: "10" could mean seconds or
// nanoseconds, so a unit is required.
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler, which BurntSushi/toml uses for strings.
func (d *Duration) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration: use a number with a unit, like \"10s\" or \"1m30s\"", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// String is the Go duration string, e.g. "1m30s".
func (d Duration) String() string { return time.Duration(d).String() }
