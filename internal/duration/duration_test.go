package duration

import (
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestDecode(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{`d = "1m30s"`, 90 * time.Second, ""},
		{`d = "500ms"`, 500 * time.Millisecond, ""},
		{`d = ""`, 0, ""},
		{`d = "10"`, 0, `toml: line 1 (last key "d"): "10" is not a duration: use a number with a unit, like "10s" or "1m30s"`},
		{`d = "5 parsecs"`, 0, `toml: line 1 (last key "d"): "5 parsecs" is not a duration: use a number with a unit, like "10s" or "1m30s"`},
		{`d = 10`, 0, `toml: line 1 (last key "d"): "10" is not a duration: use a number with a unit, like "10s" or "1m30s"`},
	}
	for _, tc := range cases {
		var v struct {
			D Duration `toml:"d"`
		}
		_, err := toml.Decode(tc.in, &v)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%s: err %v, want %s", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || time.Duration(v.D) != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.in, time.Duration(v.D), err, tc.want)
		}
	}
	if b, _ := Duration(90 * time.Second).MarshalText(); string(b) != "1m30s" {
		t.Errorf("MarshalText = %s", b)
	}
}
