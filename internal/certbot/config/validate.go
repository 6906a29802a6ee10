package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/duration"
)

// readSecrets loads password_file / token_file. Surrounding white space (the trailing newline
// of `echo secret > file`) is trimmed.
func (c *Config) readSecrets() error {
	for _, s := range []struct {
		key, fileKey string
		value, file  *string
	}{
		{"password", "password_file", &c.Password, &c.PasswordFile},
		{"token", "token_file", &c.Token, &c.TokenFile},
	} {
		if *s.file == "" {
			continue
		}
		if *s.value != "" {
			return c.errf(s.fileKey, "set either %s or %s, not both", s.key, s.fileKey)
		}
		b, err := os.ReadFile(*s.file)
		if err != nil {
			return c.errf(s.fileKey, "%w", err)
		}
		*s.value = strings.TrimSpace(string(b))
		if *s.value == "" {
			return c.errf(s.fileKey, "%s is empty", *s.file)
		}
	}
	return nil
}

func (c *Config) applyDefaults() {
	if c.API == "" {
		c.API = APIv1
	}
	if c.V1Auth == "" {
		c.V1Auth = AuthBasic
	}
	if c.Measurement == "" {
		c.Measurement = DefaultMeasurement
	}
	if c.Spool == "" {
		c.Spool = DefaultSpool
	}
	if c.Timeout == 0 {
		c.Timeout = duration.Duration(DefaultTimeout)
	}
	if !c.retriesSet {
		c.Retries = DefaultRetries
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = duration.Duration(DefaultRetryBackoff)
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
}

// validate checks the delivery settings.
func (c *Config) validate() error {
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https"):
			return c.errf("url", "%q: want an http:// or https:// base URL such as http://127.0.0.1:8086", c.URL)
		case u.Host == "":
			return c.errf("url", "%q: no host", c.URL)
		case u.RawQuery != "" || u.Fragment != "":
			return c.errf("url", "%q: give the base URL without query or fragment; database, bucket and credentials have their own settings", c.URL)
		case u.User != nil:
			return c.errf("url", "%q: put credentials in username/password or token, not in the URL", u.Redacted())
		}
	}
	switch c.API {
	case APIv1:
		for _, kv := range [][2]string{{"org", c.Org}, {"bucket", c.Bucket}, {"token", c.Token}} {
			if key, v := kv[0], kv[1]; v != "" {
				return c.errf(key, "is a v2 setting but api = %q; set api = %q or use database/username/password", c.API, APIv2)
			}
		}
		if c.V1Auth != AuthBasic && c.V1Auth != AuthQuery {
			return c.errf("v1_auth", "%q: want %q or %q", c.V1Auth, AuthBasic, AuthQuery)
		}
		if c.Password != "" && c.Username == "" {
			return c.errf("password", "is set but username is empty")
		}
	case APIv2:
		for _, kv := range [][2]string{{"database", c.Database}, {"retention_policy", c.RetentionPolicy}, {"username", c.Username}, {"password", c.Password}} {
			if key, v := kv[0], kv[1]; v != "" {
				return c.errf(key, "is a v1 setting but api = %q; with v2 use bucket (InfluxDB 1.8: \"db/rp\") and token (InfluxDB 1.8: \"user:password\")", c.API)
			}
		}
	default:
		return c.errf("api", "%q: want %q (/write: InfluxDB 1.x, Telegraf influxdb_listener) or %q (/api/v2/write: InfluxDB 2.x/3, Telegraf influxdb_v2_listener)", c.API, APIv1, APIv2)
	}
	switch {
	case c.Timeout < 0:
		return c.errf("timeout", "%s: must be positive", time.Duration(c.Timeout))
	case c.Retries < 0 || c.Retries > MaxRetries:
		return c.errf("retries", "%d: want 0 to %d", c.Retries, MaxRetries)
	case c.RetryBackoff < 0:
		return c.errf("retry_backoff", "%s: must be positive", time.Duration(c.RetryBackoff))
	case c.BatchSize < 0:
		return c.errf("batch_size", "%d: must be positive", c.BatchSize)
	}
	return nil
}

// validateRecording checks the settings a renewal is spooled with.
func (c *Config) validateRecording() error {
	for _, k := range []string{"domain", "host"} {
		if _, ok := c.Tags[k]; ok {
			return c.errf("tags", "%q is set by the hook itself; use the host setting for the host tag", k)
		}
	}
	for k, v := range c.Tags {
		if k == "" || v == "" {
			return c.errf("tags", "%q = %q: tag keys and values must not be empty", k, v)
		}
	}
	return nil
}

// errf builds an Error for key, naming where the value came from: the environment variable
// when one set it, else the file.
func (c *Config) errf(key, format string, args ...any) error {
	if c.fromEnv[key] {
		return &Error{Source: "environment", Key: EnvName(key), Err: fmt.Errorf(format, args...)}
	}
	src := c.Path
	if src == "" {
		src = "certbot-hook settings"
	}
	return &Error{Source: src, Key: key, Err: fmt.Errorf(format, args...)}
}
