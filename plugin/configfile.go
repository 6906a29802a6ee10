package plugin

import (
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// CheckConfigFile reports what LoadConfigFile would refuse.
func CheckConfigFile(path string) error {
	_, err := LoadConfigFile(path)
	return err
}

// LoadConfigFile reads the plugin configuration file as Telegraf's execd shim does ($VAR
// expansion, then BurntSushi/toml) and returns the plugin, not yet initialised — refusing what
// the shim would silently accept: unknown options (typos), a $ that expansion would mangle
// (an unset $VAR, "${" without its brace, "$$"; see expandEnv), a missing or repeated
// [[inputs.certexpiry]] block, other plugins. Without this, `timout = "1s"` would run with the
// default timeout and nobody would know.
func LoadConfigFile(path string) (*CertExpiry, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading plugin config: %w", err)
	}
	expanded, err := expandEnv(string(raw), os.LookupEnv)
	if err != nil {
		return nil, prefixLines(path+": ", err)
	}
	var file struct {
		Inputs     map[string][]toml.Primitive `toml:"inputs"`
		Processors map[string][]toml.Primitive `toml:"processors"`
		Outputs    map[string][]toml.Primitive `toml:"outputs"`
	}
	md, err := toml.Decode(expanded, &file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(file.Processors) > 0 || len(file.Outputs) > 0 {
		return nil, fmt.Errorf("%s: only [[inputs.%s]] belongs in the plugin config; processors and outputs go in telegraf.conf", path, Name)
	}
	for name := range file.Inputs {
		if name != Name {
			return nil, fmt.Errorf("%s: unknown input [[inputs.%s]]: this binary only provides [[inputs.%s]]", path, name, Name)
		}
	}
	blocks := file.Inputs[Name]
	switch len(blocks) {
	case 0:
		return nil, fmt.Errorf("%s: no [[inputs.%s]] block", path, Name)
	case 1:
	default:
		return nil, fmt.Errorf("%s: %d [[inputs.%s]] blocks, but the shim runs only the first: merge them or run one process per block", path, len(blocks), Name)
	}
	p := New()
	if err := md.PrimitiveDecode(blocks[0], p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		keys := make([]string, 0, len(undecoded))
		for _, k := range undecoded {
			key := k.String()
			// k is inputs.certexpiry[.table...].option; the options known there are the toml
			// tags of the struct that table decodes into.
			if len(k) > 2 {
				if near := closest(k[len(k)-1], optionNames(reflect.TypeOf(p).Elem(), k[2:len(k)-1])); near != "" {
					key += " (did you mean " + near + "?)"
				}
			}
			keys = append(keys, key)
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("%s: unknown option %s", path, strings.Join(keys, ", "))
	}
	return p, nil
}

// optionNames lists the TOML option names of the struct t, or of the table reached from it
// through the path of table names (e.g. ["target"], ["kubernetes"]); nil if there is none.
func optionNames(t reflect.Type, path []string) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		if name == "" || name == "-" {
			continue
		}
		if len(path) > 0 && name == path[0] {
			return optionNames(t.Field(i).Type, path[1:])
		}
		names = append(names, name)
	}
	if len(path) > 0 {
		return nil
	}
	return names
}

// closest returns the name among known that is a likely typo of key: the nearest by edit
// distance (a transposition counts as one edit), at most one edit per three letters of the
// name and never more than two; "" if none is that near.
func closest(key string, known []string) string {
	best, bestDist := "", 0
	for _, name := range known {
		d := editDistance(key, name)
		if d > min(2, max(1, len(name)/3)) {
			continue
		}
		if best == "" || d < bestDist || d == bestDist && name < best {
			best, bestDist = name, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b: insertions,
// deletions, substitutions and transpositions of adjacent bytes each cost one.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// prefixLines puts prefix before every line of err's message, so that each line Telegraf
// logs names the file.
func prefixLines(prefix string, err error) error { return &prefixedError{prefix, err} }

type prefixedError struct {
	prefix string
	err    error
}

func (e *prefixedError) Error() string {
	return e.prefix + strings.ReplaceAll(e.err.Error(), "\n", "\n"+e.prefix)
}
func (e *prefixedError) Unwrap() error { return e.err }
