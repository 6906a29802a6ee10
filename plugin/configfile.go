package plugin

import (
	"fmt"
	"os"
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
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("%s: unknown option %s", path, strings.Join(keys, ", "))
	}
	return p, nil
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
