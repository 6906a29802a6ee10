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
// the shim would silently accept: unknown options (typos), an unset $VAR, a missing or repeated
// [[inputs.certexpiry]] block, other plugins. Without this, `timout = "1s"` would run with the
// default timeout and nobody would know.
func LoadConfigFile(path string) (*CertExpiry, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading plugin config: %w", err)
	}
	if unset := unsetVariables(string(raw)); len(unset) > 0 {
		return nil, fmt.Errorf("%s: %s not set: the shim replaces $NAME and ${NAME} in the plugin config with the environment's value, and has no escape for a literal $", path, strings.Join(unset, ", "))
	}
	var file struct {
		Inputs     map[string][]toml.Primitive `toml:"inputs"`
		Processors map[string][]toml.Primitive `toml:"processors"`
		Outputs    map[string][]toml.Primitive `toml:"outputs"`
	}
	md, err := toml.Decode(expandEnv(string(raw)), &file)
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

// unsetVariables lists the $NAME references outside comment lines whose variable is not set:
// the shim would silently replace them with nothing ("pa$$word" becomes "paword").
func unsetVariables(config string) []string {
	var unset []string
	seen := map[string]bool{}
	for _, line := range strings.Split(config, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		os.Expand(line, func(k string) string {
			if _, ok := os.LookupEnv(k); !ok && !seen[k] {
				seen[k] = true
				unset = append(unset, "$"+k)
			}
			return ""
		})
	}
	return unset
}

// expandEnv mirrors the shim: $VAR and ${VAR} are replaced by the environment's value, with
// quotes and backslashes escaped so the value stays inside its TOML string.
func expandEnv(s string) string {
	escaper := strings.NewReplacer(`"`, `\"`, `\`, `\\`)
	return os.Expand(s, func(k string) string { return escaper.Replace(os.Getenv(k)) })
}
