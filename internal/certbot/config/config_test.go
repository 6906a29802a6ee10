package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/duration"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func write(t *testing.T, name, body string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // umask-proof
		t.Fatal(err)
	}
	return p
}

func TestLoadFileThenEnv(t *testing.T) {
	path := write(t, "hook.toml", `
url = "http://127.0.0.1:8086"
database = "telegraf"
retention_policy = "autogen"
username = "certbot"
password = "s3cr$t"
host = "from-file"
retries = 0
timeout = "3s"
[tags]
  env = "prod"
  dc = "eu1"
`, 0o600)
	c, err := Load(path, env(map[string]string{
		"CERTEXPIRY_HOOK_HOST":     "from env",
		"CERTEXPIRY_HOOK_DATABASE": "certs",
		"CERTEXPIRY_HOOK_TAGS":     "dc=us2, team=web",
		"CERTEXPIRY_HOOK_SPOOL":    "/tmp/x.lp",
		"CERTEXPIRY_HOOK_URL":      "", // empty: the file's value stays
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		URL: "http://127.0.0.1:8086", API: "v1", Database: "certs", RetentionPolicy: "autogen",
		Username: "certbot", Password: "s3cr$t", V1Auth: "basic",
		Measurement: "certbot_renewal", Host: "from env", Spool: "/tmp/x.lp",
		Timeout: duration.Duration(3 * time.Second), Retries: 0, RetryBackoff: duration.Duration(time.Second), BatchSize: 1000,
		Tags: map[string]string{"env": "prod", "dc": "us2", "team": "web"},
		Path: path, retriesSet: true,
		fromEnv: map[string]bool{"host": true, "database": true, "tags": true, "spool": true},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

func TestLoadDefaultsEnvOnly(t *testing.T) {
	// No -config, no CERTEXPIRY_HOOK_CONFIG: the default path is tried and may be missing. The
	// default is injected, so a real /etc/telegraf-certexpiry/certbot-hook.toml on the machine
	// running the tests changes nothing.
	missing := filepath.Join(t.TempDir(), "certbot-hook.toml")
	tokenFile := write(t, "token", "tok-123\n", 0o600)
	c, err := LoadWithDefault("", missing, env(map[string]string{
		"CERTEXPIRY_HOOK_URL":        "https://influx.example:8086/prefix",
		"CERTEXPIRY_HOOK_API":        "v2",
		"CERTEXPIRY_HOOK_ORG":        "ops",
		"CERTEXPIRY_HOOK_BUCKET":     "certs",
		"CERTEXPIRY_HOOK_TOKEN_FILE": tokenFile,
		"CERTEXPIRY_HOOK_RETRIES":    "5",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		URL: "https://influx.example:8086/prefix", API: "v2", Org: "ops", Bucket: "certs",
		Token: "tok-123", TokenFile: tokenFile, V1Auth: "basic",
		Measurement: "certbot_renewal", Spool: DefaultSpool,
		Timeout: duration.Duration(10 * time.Second), Retries: 5, RetryBackoff: duration.Duration(time.Second), BatchSize: 1000,
		retriesSet: true,
		fromEnv:    map[string]bool{"url": true, "api": true, "org": true, "bucket": true, "token_file": true, "retries": true},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	c, err = LoadWithDefault("", missing, env(nil))
	if err != nil || c.Retries != DefaultRetries || c.URL != "" || c.Path != "" {
		t.Errorf("empty: %+v, %v", c, err)
	}
	// An existing default file is read.
	present := write(t, "certbot-hook.toml", "host = \"from-default\"\n", 0o644)
	c, err = LoadWithDefault("", present, env(nil))
	if err != nil || c.Host != "from-default" || c.Path != present {
		t.Errorf("default file: %+v, %v", c, err)
	}
}

// TestLoadDeliveryErrorsKeepRecordingSettings: a problem with how to deliver comes with the
// settings a renewal is spooled with, so the hook can keep the renewal before refusing.
func TestLoadDeliveryErrorsKeepRecordingSettings(t *testing.T) {
	dir := t.TempDir()
	spoolFile := filepath.Join(dir, "custom.lp")
	recording := "spool = \"" + spoolFile + "\"\nmeasurement = \"renewals\"\nhost = \"h1\"\n[tags]\nenv = \"prod\"\n"
	for _, tc := range []struct {
		name, file string
		mode       os.FileMode
		env        map[string]string
		want       string // PATH is the settings file
	}{
		{"missing token file", "api = \"v2\"\ntoken_file = \"" + filepath.Join(dir, "none") + "\"\n" + recording, 0o600, nil,
			"PATH: token_file: open " + filepath.Join(dir, "none") + ": no such file or directory"},
		{"token readable by others", "api = \"v2\"\ntoken = \"t\"\n" + recording, 0o644, nil,
			"PATH: config file holding a secret is readable by group or others: it holds token and has mode 0644; run `chmod 600 PATH` (or move the secret to token_file)"},
		{"malformed url in env", recording, 0o600, map[string]string{"CERTEXPIRY_HOOK_URL": "localhost:8086"},
			`environment: CERTEXPIRY_HOOK_URL: "localhost:8086": want an http:// or https:// base URL such as http://127.0.0.1:8086`},
		{"unparsable retries in env", recording, 0o600, map[string]string{"CERTEXPIRY_HOOK_RETRIES": "many"},
			`environment: CERTEXPIRY_HOOK_RETRIES: "many": strconv.Atoi: parsing "many": invalid syntax`},
		{"bad api", "api = \"2\"\n" + recording, 0o600, nil,
			`PATH: api: "2": want "v1" (/write: InfluxDB 1.x, Telegraf influxdb_listener) or "v2" (/api/v2/write: InfluxDB 2.x/3, Telegraf influxdb_v2_listener)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := write(t, "hook.toml", tc.file, tc.mode)
			c, err := Load(path, env(tc.env))
			if want := replacePath(tc.want, path); err == nil || err.Error() != want {
				t.Fatalf("err = %v\nwant    %s", err, want)
			}
			if !errors.Is(err, ErrDeliverySettings) {
				t.Errorf("not marked as a delivery problem: %#v", err)
			}
			if c == nil || c.Spool != spoolFile || c.Measurement != "renewals" || c.Host != "h1" || !reflect.DeepEqual(c.Tags, map[string]string{"env": "prod"}) {
				t.Errorf("recording settings lost: %+v", c)
			}
		})
	}
}

// TestLoadRecordingErrorsReturnNoSettings: when where or how to record a renewal is itself in
// doubt, Load returns no settings at all.
func TestLoadRecordingErrorsReturnNoSettings(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		env        map[string]string
	}{
		{"bad toml", "spool = \n", nil},
		{"unknown key (perhaps a misspelt spool)", "spol = \"/x.lp\"\n", nil},
		{"reserved tag", "[tags]\nhost = \"x\"\n", nil},
		{"bad tags in env", "", map[string]string{"CERTEXPIRY_HOOK_TAGS": "env"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(write(t, "hook.toml", tc.file, 0o600), env(tc.env))
			if err == nil || c != nil || errors.Is(err, ErrDeliverySettings) {
				t.Errorf("got %+v, %v", c, err)
			}
		})
	}
}

func TestLoadConfigFromEnvVar(t *testing.T) {
	path := write(t, "hook.toml", `url = "http://127.0.0.1:1"`+"\n", 0o644)
	c, err := Load("", env(map[string]string{"CERTEXPIRY_HOOK_CONFIG": path}))
	if err != nil || c.URL != "http://127.0.0.1:1" || c.Path != path {
		t.Fatalf("got %+v, %v", c, err)
	}
	missing := filepath.Join(t.TempDir(), "nope.toml")
	_, err = Load("", env(map[string]string{"CERTEXPIRY_HOOK_CONFIG": missing}))
	if want := missing + ": open " + missing + ": no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("missing explicit file: %v, want %q", err, want)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		file string
		mode os.FileMode
		env  map[string]string
		want string // after "PATH: "
	}{
		{"unknown key", "url = \"http://127.0.0.1:8086\"\ndatabse = \"x\"\n", 0o600, nil,
			"databse: unknown setting (known: api, batch_size, bucket, database, host, measurement, org, password, password_file, retention_policy, retries, retry_backoff, spool, tags, timeout, token, token_file, url, username, v1_auth)"},
		{"unknown nested key", "[tags]\nenv = \"x\"\n[output]\nurl = \"x\"\n", 0o600, nil,
			"output: unknown setting (known: api, batch_size, bucket, database, host, measurement, org, password, password_file, retention_policy, retries, retry_backoff, spool, tags, timeout, token, token_file, url, username, v1_auth)"},
		{"password readable by others", "username = \"u\"\npassword = \"p\"\n", 0o644, nil,
			"config file holding a secret is readable by group or others: it holds password and has mode 0644; run `chmod 600 PATH` (or move the secret to password_file)"},
		{"token readable by group", "api = \"v2\"\ntoken = \"t\"\n", 0o640, nil,
			"config file holding a secret is readable by group or others: it holds token and has mode 0640; run `chmod 600 PATH` (or move the secret to token_file)"},
		{"bad toml", "url = \n", 0o600, nil, "toml: line 1 (last key \"url\"): expected value but found '\\n' instead"},
		{"bad duration", "timeout = \"10 seconds\"\n", 0o600, nil, "toml: line 1 (last key \"timeout\"): \"10 seconds\" is not a duration: use a number with a unit, like \"10s\" or \"1m30s\""},
		{"bad url scheme", "url = \"127.0.0.1:8086\"\n", 0o600, nil, "url: \"127.0.0.1:8086\": want an http:// or https:// base URL such as http://127.0.0.1:8086"},
		{"url with query", "url = \"http://127.0.0.1:8086/write?db=x\"\n", 0o600, nil, "url: \"http://127.0.0.1:8086/write?db=x\": give the base URL without query or fragment; database, bucket and credentials have their own settings"},
		{"url with credentials", "url = \"http://u:secret@127.0.0.1:8086\"\n", 0o600, nil, "url: \"http://u:xxxxx@127.0.0.1:8086\": put credentials in username/password or token, not in the URL"},
		{"bad api", "api = \"2\"\n", 0o600, nil, "api: \"2\": want \"v1\" (/write: InfluxDB 1.x, Telegraf influxdb_listener) or \"v2\" (/api/v2/write: InfluxDB 2.x/3, Telegraf influxdb_v2_listener)"},
		{"v2 key with v1", "bucket = \"b\"\n", 0o600, nil, "bucket: is a v2 setting but api = \"v1\"; set api = \"v2\" or use database/username/password"},
		{"v1 key with v2", "api = \"v2\"\ndatabase = \"d\"\n", 0o600, nil, "database: is a v1 setting but api = \"v2\"; with v2 use bucket (InfluxDB 1.8: \"db/rp\") and token (InfluxDB 1.8: \"user:password\")"},
		{"password without user", "password_file = \"" + pw + "\"\n", 0o600, nil, "password: is set but username is empty"},
		{"both password and file", "username = \"u\"\npassword_file = \"" + pw + "\"\n", 0o600, map[string]string{"CERTEXPIRY_HOOK_PASSWORD": "x"}, "password_file: set either password or password_file, not both"},
		{"missing token file", "api = \"v2\"\ntoken_file = \"" + filepath.Join(dir, "none") + "\"\n", 0o600, nil, "token_file: open " + filepath.Join(dir, "none") + ": no such file or directory"},
		{"bad v1_auth", "v1_auth = \"digest\"\n", 0o600, nil, "v1_auth: \"digest\": want \"basic\" or \"query\""},
		{"too many retries", "retries = 11\n", 0o600, nil, "retries: 11: want 0 to 10"},
		{"reserved tag", "[tags]\nhost = \"x\"\n", 0o600, nil, "tags: \"host\" is set by the hook itself; use the host setting for the host tag"},
		{"empty tag value", "[tags]\nenv = \"\"\n", 0o600, nil, "tags: \"env\" = \"\": tag keys and values must not be empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := write(t, "hook.toml", tc.file, tc.mode)
			_, err := Load(path, env(tc.env))
			want := path + ": " + replacePath(tc.want, path)
			if err == nil || err.Error() != want {
				t.Fatalf("err = %v\nwant    %s", err, want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Source != path {
				t.Errorf("not a *config.Error from %s: %#v", path, err)
			}
		})
	}
}

func TestLoadEnvErrors(t *testing.T) {
	for _, tc := range []struct{ k, v, want string }{
		{"CERTEXPIRY_HOOK_TIMEOUT", "10", `environment: CERTEXPIRY_HOOK_TIMEOUT: "10": "10" is not a duration: use a number with a unit, like "10s" or "1m30s"`},
		{"CERTEXPIRY_HOOK_RETRIES", "many", `environment: CERTEXPIRY_HOOK_RETRIES: "many": strconv.Atoi: parsing "many": invalid syntax`},
		{"CERTEXPIRY_HOOK_TAGS", "env", `environment: CERTEXPIRY_HOOK_TAGS: "env": want key=value[,key=value...], got item "env"`},
		{"CERTEXPIRY_HOOK_URL", "ftp://127.0.0.1", `environment: CERTEXPIRY_HOOK_URL: "ftp://127.0.0.1": want an http:// or https:// base URL such as http://127.0.0.1:8086`},
	} {
		_, err := Load("", env(map[string]string{tc.k: tc.v}))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s=%s: err = %v\nwant %s", tc.k, tc.v, err, tc.want)
		}
	}
}

func replacePath(s, path string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		if i+4 <= len(s) && s[i:i+4] == "PATH" {
			out = append(out, path...)
			i += 3
			continue
		}
		out = append(out, s[i])
	}
	return string(out)
}

// TestDocsListEverySetting keeps docs/certbot-hook.md's reference table in step with the code:
// every key appears with its environment variable, and the default path is the documented one.
func TestDocsListEverySetting(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "certbot-hook.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, k := range knownKeys() {
		row := "| `" + k + "` | `" + EnvName(k) + "` |"
		if k == "tags" {
			row = "| `[tags]` | `" + EnvName(k) + "` |"
		}
		if !strings.Contains(doc, row) {
			t.Errorf("docs/certbot-hook.md lacks the row %s", row)
		}
	}
	for _, s := range []string{"Default path: **`" + DefaultPath + "`**", "`" + DefaultSpool + "`"} {
		if !strings.Contains(doc, s) {
			t.Errorf("docs/certbot-hook.md lacks %s", s)
		}
	}
}
