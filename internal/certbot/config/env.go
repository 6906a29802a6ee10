package config

import (
	"fmt"
	"strconv"
	"strings"
)

// envPrefix starts every environment variable the hook reads (besides certbot's RENEWED_*).
const envPrefix = "CERTEXPIRY_HOOK_"

// envKey ties a TOML key to its environment variable (envPrefix + upper-case key).
type envKey struct {
	key string
	set func(c *Config, v string) error
}

func str(f func(c *Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *f(c) = v; return nil }
}

// envKeys lists every setting; the environment variable of "url" is CERTEXPIRY_HOOK_URL.
var envKeys = []envKey{
	{"url", str(func(c *Config) *string { return &c.URL })},
	{"api", str(func(c *Config) *string { return &c.API })},
	{"database", str(func(c *Config) *string { return &c.Database })},
	{"retention_policy", str(func(c *Config) *string { return &c.RetentionPolicy })},
	{"username", str(func(c *Config) *string { return &c.Username })},
	{"password", str(func(c *Config) *string { return &c.Password })},
	{"password_file", str(func(c *Config) *string { return &c.PasswordFile })},
	{"v1_auth", str(func(c *Config) *string { return &c.V1Auth })},
	{"org", str(func(c *Config) *string { return &c.Org })},
	{"bucket", str(func(c *Config) *string { return &c.Bucket })},
	{"token", str(func(c *Config) *string { return &c.Token })},
	{"token_file", str(func(c *Config) *string { return &c.TokenFile })},
	{"measurement", str(func(c *Config) *string { return &c.Measurement })},
	{"host", str(func(c *Config) *string { return &c.Host })},
	{"spool", str(func(c *Config) *string { return &c.Spool })},
	{"timeout", func(c *Config, v string) error { return c.Timeout.UnmarshalText([]byte(v)) }},
	{"retries", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		c.Retries, c.retriesSet = n, true
		return err
	}},
	{"retry_backoff", func(c *Config, v string) error { return c.RetryBackoff.UnmarshalText([]byte(v)) }},
	{"batch_size", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		c.BatchSize = n
		return err
	}},
	{"tags", func(c *Config, v string) error {
		// "k=v,k2=v2", merged over the file's [tags].
		if c.Tags == nil {
			c.Tags = map[string]string{}
		}
		for _, kv := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(kv, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				return fmt.Errorf("want key=value[,key=value...], got item %q", kv)
			}
			c.Tags[k] = strings.TrimSpace(val)
		}
		return nil
	}},
}

// EnvName is the environment variable of a TOML key.
func EnvName(key string) string { return envPrefix + strings.ToUpper(key) }

// applyEnv overrides c with every non-empty CERTEXPIRY_HOOK_* variable. A bad value of a
// recording setting is returned; one of a delivery setting is recorded (c.delivery).
func (c *Config) applyEnv(getenv func(string) string) error {
	for _, e := range envKeys {
		name := EnvName(e.key)
		v := getenv(name)
		if v == "" {
			continue
		}
		if err := e.set(c, v); err != nil {
			err = &Error{Source: "environment", Key: name, Err: fmt.Errorf("%q: %w", v, err)}
			if recordingKeys[e.key] {
				return err
			}
			c.delivery(err)
			continue
		}
		if c.fromEnv == nil {
			c.fromEnv = map[string]bool{}
		}
		c.fromEnv[e.key] = true
	}
	return nil
}
