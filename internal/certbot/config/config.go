// Package config loads the certbot hook's settings: built-in defaults, then a TOML file, then
// environment variables (each non-empty variable overrides the file). The file alone is
// enough, because certbot runs deploy hooks with whatever environment it was started with
// (cron, systemd timer), which is rarely the one you configured interactively.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/renewal"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/duration"
)

// Defaults.
const (
	// DefaultPath is read when no -config flag and no CERTEXPIRY_HOOK_CONFIG are given; a
	// missing file at the default path is not an error (environment variables may suffice).
	DefaultPath = "/etc/telegraf-certexpiry/certbot-hook.toml"
	// DefaultSpool is where lines wait until a server (or the Telegraf input) accepts them.
	DefaultSpool        = "/var/lib/telegraf-certexpiry/certbot-spool.lp"
	DefaultMeasurement  = renewal.DefaultMeasurement // one home: the encoder's own default
	DefaultTimeout      = 10 * time.Second
	DefaultRetries      = 3
	DefaultRetryBackoff = time.Second
	DefaultBatchSize    = 1000
	// MaxRetries bounds retries so that a hook cannot hold certbot for hours.
	MaxRetries = 10
)

// API values.
const (
	// APIv1 posts to /write: InfluxDB 1.x and Telegraf's influxdb_listener.
	APIv1 = "v1"
	// APIv2 posts to /api/v2/write: InfluxDB 2.x / 3, InfluxDB 1.8+ and Telegraf's
	// influxdb_v2_listener.
	APIv2 = "v2"
)

// v1 authentication styles.
const (
	AuthBasic = "basic" // Authorization: Basic (default; keeps the password out of URLs)
	AuthQuery = "query" // ?u=&p= query parameters, for proxies that strip Authorization
)

// EnvConfig names the config file when no -config flag is given.
const EnvConfig = "CERTEXPIRY_HOOK_CONFIG"

// Config is the hook's settings. The TOML keys are the field tags.
type Config struct {
	// URL is the server's base URL (http or https), e.g. http://127.0.0.1:8086; a path prefix
	// is kept (https://proxy/influx → https://proxy/influx/write). Empty: spool only, for a
	// host where the certexpiry input's certbot_spool option delivers the lines.
	URL string `toml:"url"`
	// API is "v1" (default) or "v2".
	API string `toml:"api"`
	// Database and RetentionPolicy are v1's db and rp parameters.
	Database        string `toml:"database"`
	RetentionPolicy string `toml:"retention_policy"`
	// Username and Password (or PasswordFile) authenticate to v1; V1Auth picks the style.
	Username     string `toml:"username"`
	Password     string `toml:"password"`
	PasswordFile string `toml:"password_file"`
	V1Auth       string `toml:"v1_auth"`
	// Org, Bucket and Token (or TokenFile) are v2's. InfluxDB 2 OSS needs org; InfluxDB 1.8
	// takes bucket "db/rp" and token "user:password".
	Org       string `toml:"org"`
	Bucket    string `toml:"bucket"`
	Token     string `toml:"token"`
	TokenFile string `toml:"token_file"`

	// Measurement defaults to certbot_renewal; Host to the machine's host name.
	Measurement string `toml:"measurement"`
	Host        string `toml:"host"`
	// Spool defaults to DefaultSpool.
	Spool string `toml:"spool"`
	// Timeout bounds each HTTP attempt (default 10s); Retries (default 3, at most 10) more
	// attempts follow a 5xx or connection error, after RetryBackoff (default 1s), doubling.
	Timeout      duration.Duration `toml:"timeout"`
	Retries      int               `toml:"retries"`
	RetryBackoff duration.Duration `toml:"retry_backoff"`
	// BatchSize is the most lines sent in one request when the spool is delivered (default 1000).
	BatchSize int `toml:"batch_size"`
	// Tags are added to every point; "domain" and "host" are reserved.
	Tags map[string]string `toml:"tags"`

	// Path is the file the settings came from ("" when none was read).
	Path string `toml:"-"`

	// retriesSet tells an explicit retries = 0 from an absent setting.
	retriesSet bool
	// fromEnv records the keys an environment variable set, so errors point there.
	fromEnv map[string]bool
	// deliveryErr is the first problem found in a delivery setting.
	deliveryErr error
}

// recordingKeys are the settings needed to write a renewal into the spool. Every other key
// says only how to deliver it.
var recordingKeys = map[string]bool{"spool": true, "measurement": true, "host": true, "tags": true}

// Error names the setting (TOML key or environment variable) that is wrong.
type Error struct {
	Source string // file path or "environment"
	Key    string
	Err    error
	// delivery marks a problem confined to delivery settings (see ErrDeliverySettings).
	delivery bool
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s: %v", e.Source, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Source, e.Key, e.Err)
}
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrDeliverySettings) true for a problem confined to delivery.
func (e *Error) Is(target error) bool { return target == ErrDeliverySettings && e.delivery }

// ErrDeliverySettings marks an error that concerns only how to deliver (url, api, database,
// credentials and their files, a settings file holding a secret readable by others, timeout,
// retries, retry_backoff, batch_size): the renewal can still be spooled with the settings Load
// returns alongside it.
var ErrDeliverySettings = errors.New("delivery settings are unusable")

// ErrInsecureFile marks a config file that holds a secret but is readable by group or others.
var ErrInsecureFile = errors.New("config file holding a secret is readable by group or others")

// Load reads the settings. path is the -config flag ("" when absent): then
// CERTEXPIRY_HOOK_CONFIG, then DefaultPath, which alone may be missing. getenv supplies the
// environment. The result has defaults applied and is validated.
//
// A problem confined to delivery settings (errors.Is(err, ErrDeliverySettings)) comes with
// the settings: Spool, Measurement, Host and Tags are loaded and valid, so a renewal can be
// kept in the spool before the error is reported. For any other error (the file cannot be
// read or decoded, an unknown key, which might be a misspelt spool, a bad recording setting)
// the settings are nil.
func Load(path string, getenv func(string) string) (*Config, error) {
	return LoadWithDefault(path, DefaultPath, getenv)
}

// LoadWithDefault is Load with another default path (tests inject one).
func LoadWithDefault(path, defaultPath string, getenv func(string) string) (*Config, error) {
	c := &Config{}
	explicit := path != ""
	if !explicit {
		if path = getenv(EnvConfig); path != "" {
			explicit = true
		} else {
			path = defaultPath
		}
	}
	if err := c.loadFile(path, explicit); err != nil {
		return nil, err
	}
	if err := c.applyEnv(getenv); err != nil {
		return nil, err
	}
	c.delivery(c.readSecrets())
	c.applyDefaults()
	if err := c.validateRecording(); err != nil {
		return nil, err
	}
	c.delivery(c.validate())
	if c.deliveryErr != nil {
		return c, c.deliveryErr
	}
	return c, nil
}

// delivery records err (a delivery setting's problem) unless an earlier one was recorded.
func (c *Config) delivery(err error) {
	if err == nil || c.deliveryErr != nil {
		return
	}
	var ce *Error
	if errors.As(err, &ce) {
		ce.delivery = true
	}
	c.deliveryErr = err
}

// loadFile decodes path into c.
func (c *Config) loadFile(path string, explicit bool) error {
	f, err := os.Open(path)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return &Error{Source: path, Err: err}
	}
	defer f.Close()
	md, err := toml.NewDecoder(f).Decode(c)
	if err != nil {
		return &Error{Source: path, Err: err}
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return &Error{Source: path, Key: keys[0], Err: fmt.Errorf("unknown setting (known: %s)", strings.Join(knownKeys(), ", "))}
	}
	c.Path = path
	if secret := c.fileSecret(); secret != "" {
		fi, err := f.Stat()
		if err != nil {
			return &Error{Source: path, Err: err}
		}
		if mode := fi.Mode().Perm(); mode&0o044 != 0 {
			c.delivery(&Error{Source: path, Err: fmt.Errorf("%w: it holds %s and has mode %04o; run `chmod 600 %s` (or move the secret to %s_file)", ErrInsecureFile, secret, mode, path, secret)})
		}
	}
	c.retriesSet = md.IsDefined("retries")
	return nil
}

// fileSecret names the secret the decoded file holds, if any.
func (c *Config) fileSecret() string {
	switch {
	case c.Password != "":
		return "password"
	case c.Token != "":
		return "token"
	}
	return ""
}

func knownKeys() []string {
	var out []string
	for _, e := range envKeys {
		out = append(out, e.key)
	}
	sort.Strings(out)
	return out
}
