package plugin

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/duration"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
)

func TestInitRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	target := []StaticTarget{{Address: "127.0.0.1"}}
	cases := []struct {
		name   string
		modify func(c *CertExpiry)
		want   string
	}{
		{"no targets", func(c *CertExpiry) { c.Targets = nil },
			"no targets: add [[inputs.certexpiry.target]] entries or an [inputs.certexpiry.kubernetes] table"},
		{"empty domain", func(c *CertExpiry) { c.Domains = []string{"a.test", ""} }, "domains: empty domain"},
		{"URL as domain", func(c *CertExpiry) { c.Domains = []string{"https://a.test"} }, `domains: "https://a.test" is a URL; give the bare domain`},
		{"domain with space", func(c *CertExpiry) { c.Domains = []string{"a .test"} }, `domains: "a .test" is not a domain name`},
		{"internationalised domain without an A-label form", func(c *CertExpiry) { c.Domains = []string{"bücher.test", "ü-.test"} },
			`domains: "ü-.test" is not a valid internationalised domain name: idna: invalid label "ü-"`},
		{"no domains anywhere", func(c *CertExpiry) { c.Domains = nil },
			`target[0].domains: no domains for "127.0.0.1": set domains here or at the top level`},
		{"port out of range", func(c *CertExpiry) { c.Ports = []int{443, 70000} }, "ports: port 70000 out of range 1-65535"},
		{"no ports", func(c *CertExpiry) { c.Ports = []int{} }, "ports: must list at least one port"},
		{"zero timeout", func(c *CertExpiry) { c.Timeout = 0 }, `timeout: must be positive, got "0s"`},
		{"negative gather timeout", func(c *CertExpiry) { c.GatherTimeout = duration.Duration(-time.Second) }, `gather_timeout: must be positive, got "-1s"`},
		{"zero concurrency", func(c *CertExpiry) { c.MaxConcurrency = 0 }, "max_concurrency: must be at least 1, got 0"},
		{"key without cert", func(c *CertExpiry) { c.TLSKey = "/k.pem" }, "tls_cert: tls_cert and tls_key must be set together"},
		{"address with port", func(c *CertExpiry) { c.Targets = []StaticTarget{{Address: "example.test:8443"}} },
			`target[0].address: "example.test:8443" includes a port; use address = "example.test" and ports = [8443]`},
		{"bracketed IPv6", func(c *CertExpiry) { c.Targets = []StaticTarget{{Address: "[::1]"}} },
			`target[0].address: "[::1]": write IPv6 addresses without brackets and put the port in ports`},
		{"URL as address", func(c *CertExpiry) { c.Targets = []StaticTarget{{Address: "https://a.test"}} },
			`target[0].address: "https://a.test" is a URL; give the bare host and put the port in ports`},
		{"garbage address", func(c *CertExpiry) { c.Targets = []StaticTarget{{Address: "not an address"}} },
			`target[0].address: "not an address" is neither an IP address nor a host name`},
		{"empty address", func(c *CertExpiry) { c.Targets = []StaticTarget{{Address: ""}} }, "target[0].address: missing"},
		{"bad target port", func(c *CertExpiry) { c.Targets = []StaticTarget{{Address: "::1", Ports: []int{0}}} },
			"target[0].ports: port 0 out of range 1-65535"},
		{"unreadable ca_file", func(c *CertExpiry) { c.CAFile = filepath.Join(dir, "missing.pem") },
			"ca_file: open " + filepath.Join(dir, "missing.pem") + ": no such file or directory"},
		{"ca_file without certificates", func(c *CertExpiry) { c.CAFile = notPEM }, "ca_file: " + notPEM + " holds no PEM certificate"},
		{"unloadable client pair", func(c *CertExpiry) { c.TLSCert, c.TLSKey = notPEM, notPEM },
			"tls_cert: loading " + notPEM + " and " + notPEM + ": failed to decode private key: no PEM data found"},
		{"tls_key_pwd without a key", func(c *CertExpiry) { c.TLSKeyPwd = "secret" }, "tls_key_pwd: only used with tls_key"},
		{"several errors at once", func(c *CertExpiry) { c.Timeout = 0; c.MaxConcurrency = -1 },
			"timeout: must be positive, got \"0s\"\nmax_concurrency: must be at least 1, got -1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := New()
			c.Domains = []string{"a.test"}
			c.Targets = target
			tc.modify(c)
			err := c.Init()
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Init() = %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestInitAcceptsIPv6AndHostNames(t *testing.T) {
	c := New()
	c.Domains = []string{"a.test", "bücher.test", "_acme.test"}
	c.Targets = []StaticTarget{{Address: "::1"}, {Address: "127.0.0.1"}, {Address: "backend-1.internal.example"}, {Address: "cache_2.local."}}
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	return writeFile(t, "plugin.conf", []byte(body))
}

func TestCheckConfigFile(t *testing.T) {
	cases := []struct {
		name string
		body string
		want string // "" means accepted; PATH is replaced by the file's path
	}{
		{"minimal", "[[inputs.certexpiry]]\ndomains = [\"a.test\"]\n[[inputs.certexpiry.target]]\naddress = \"127.0.0.1\"\n", ""},
		{"typo in option", "[[inputs.certexpiry]]\ndomains = [\"a.test\"]\ntimout = \"1s\"\n", "PATH: unknown option inputs.certexpiry.timout (did you mean timeout?)"},
		{"typo in target", "[[inputs.certexpiry]]\n[[inputs.certexpiry.target]]\nadress = \"127.0.0.1\"\nport = 443\n",
			"PATH: unknown option inputs.certexpiry.target.adress (did you mean address?), inputs.certexpiry.target.port (did you mean ports?)"},
		// Suggestions come from the table the option is in; nothing near, no suggestion.
		{"typos in the kubernetes table", "[[inputs.certexpiry]]\n[inputs.certexpiry.kubernetes]\nnamespace = [\"web\"]\nlabel_selector = \"a=b\"\ncolour = \"blue\"\n",
			"PATH: unknown option inputs.certexpiry.kubernetes.colour, inputs.certexpiry.kubernetes.label_selector, inputs.certexpiry.kubernetes.namespace (did you mean namespaces?)"},
		{"misspelt table", "[[inputs.certexpiry]]\n[inputs.certexpiry.kubernets]\nnamespaces = [\"web\"]\n",
			"PATH: unknown option inputs.certexpiry.kubernets (did you mean kubernetes?), inputs.certexpiry.kubernets.namespaces"},
		{"transposed letters", "[[inputs.certexpiry]]\ntiemout = \"1s\"\ntls_ac = \"/ca.pem\"\n",
			"PATH: unknown option inputs.certexpiry.tiemout (did you mean timeout?), inputs.certexpiry.tls_ac (did you mean tls_ca?)"},
		{"malformed TOML", "[[inputs.certexpiry]]\ndomains = [\"a.test\"\n",
			"PATH: toml: line 2 (last key \"inputs.certexpiry.domains\"): expected a comma (',') or array terminator (']'), but got end of file"},
		{"bad duration", "[[inputs.certexpiry]]\ntimeout = \"5 parsecs\"\n",
			"PATH: toml: line 2 (last key \"inputs.certexpiry.timeout\"): \"5 parsecs\" is not a duration: use a number with a unit, like \"10s\" or \"1m30s\""},
		{"wrong type", "[[inputs.certexpiry]]\nports = \"443\"\n",
			"PATH: toml: line 2 (last key \"inputs.certexpiry.ports\"): incompatible types: TOML value has type string; destination has type slice"},
		{"no block", "[agent]\ninterval = \"10s\"\n", "PATH: no [[inputs.certexpiry]] block"},
		{"two blocks", "[[inputs.certexpiry]]\n[[inputs.certexpiry]]\n",
			"PATH: 2 [[inputs.certexpiry]] blocks, but the shim runs only the first: merge them or run one process per block"},
		{"other input", "[[inputs.cpu]]\n", "PATH: unknown input [[inputs.cpu]]: this binary only provides [[inputs.certexpiry]]"},
		// The shim's os.Expand would eat "${" and "${}" silently, reading another file.
		{"${ without closing brace", "[[inputs.certexpiry]]\nca_file = \"${CA_DIR/ca.pem\"\n",
			"PATH: line 2 (inputs.certexpiry.ca_file): \"${\" has no closing brace on its line\nPATH: " + dollarHint},
		{"${}", "[[inputs.certexpiry]]\nca_file = \"/etc/${}ca.pem\"\n",
			"PATH: line 2 (inputs.certexpiry.ca_file): \"${}\" names no variable\nPATH: " + dollarHint},
		{"outputs", "[[inputs.certexpiry]]\n[[outputs.file]]\n",
			"PATH: only [[inputs.certexpiry]] belongs in the plugin config; processors and outputs go in telegraf.conf"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.body)
			err := CheckConfigFile(path)
			want := strings.ReplaceAll(tc.want, "PATH", path)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckConfigFile: %v", err)
				}
				return
			}
			if err == nil || err.Error() != want {
				t.Fatalf("CheckConfigFile = %v\nwant %s", err, want)
			}
		})
	}
	// $NAME is the shim's: an unset one would silently become "", so it is refused; a set one
	// is used; comments do not count. Every refused $ is named with its line and option.
	t.Setenv("CERTEXPIRY_TEST_CA", "/etc/ca.pem")
	path := writeConfig(t, "# costs $5\n[[inputs.certexpiry]]\nca_file = \"$CERTEXPIRY_TEST_CA\" # ${not a reference\n"+
		"domains = [\"pa$$word.test\", \"${CERTEXPIRY_TEST_UNSET}.test\"]\n")
	want := path + ": line 4 (inputs.certexpiry.domains): \"$$\" is a shell special parameter, not a variable: the shim would replace it with nothing\n" +
		path + ": line 4 (inputs.certexpiry.domains): $CERTEXPIRY_TEST_UNSET is not set\n" +
		path + ": " + dollarHint
	if err := CheckConfigFile(path); err == nil || err.Error() != want {
		t.Fatalf("CheckConfigFile = %v\nwant %s", err, want)
	}
	p, err := LoadConfigFile(writeConfig(t, "[[inputs.certexpiry]]\nca_file = \"$CERTEXPIRY_TEST_CA\"\n"))
	if err != nil {
		t.Fatalf("a set variable: %v", err)
	}
	if p.CAFile != "/etc/ca.pem" {
		t.Fatalf("a set variable: ca_file %q, want /etc/ca.pem", p.CAFile)
	}
	if err := CheckConfigFile(filepath.Join(t.TempDir(), "nope.conf")); err == nil || !strings.HasPrefix(err.Error(), "reading plugin config: open ") {
		t.Fatalf("missing file: %v", err)
	}
}

const dollarHint = "$NAME and ${NAME} are replaced by the environment's value; a $ before a letter, digit, brace or one of $*#@!?- cannot stand for itself"

var optionLine = regexp.MustCompile(`^\s*# ([a-z_]+ = |\[)`)

// The embedded sample.conf must be a valid, complete configuration: every option it shows
// (commented ones uncommented) is known, and it initialises.
func TestSampleConfigIsValid(t *testing.T) {
	var lines []string
	for _, l := range strings.Split(sampleConfig, "\n") {
		// Uncomment option lines ("# key = value", "# [table]"), keep prose.
		if optionLine.MatchString(l) {
			l = strings.Replace(l, "# ", "", 1)
		}
		lines = append(lines, l)
	}
	full := strings.Join(lines, "\n")
	for name, body := range map[string]string{"as shipped": sampleConfig, "all options": full} {
		path := writeConfig(t, body)
		if err := CheckConfigFile(path); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// warnLog records warnings; other log calls panic (the embedded Logger is nil), so a test
// using it also proves nothing else was logged.
type warnLog struct {
	telegraf.Logger
	warnings []string
}

func (l *warnLog) Warnf(format string, args ...any) {
	l.warnings = append(l.warnings, fmt.Sprintf(format, args...))
}

// tls_ca is Telegraf's name for the CA bundle; ca_file, its former name, works for one
// release with a warning naming tls_ca.
func TestTLSCAAndItsFormerNameCAFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	ca, err := testcerts.NewCA("Root", now.Add(-day), now.Add(day))
	if err != nil {
		t.Fatal(err)
	}
	caPath := writeFile(t, "ca.pem", ca.CertPEM())
	for _, tc := range []struct {
		name, body, err string
		warnings        []string
	}{
		{"tls_ca", fmt.Sprintf("tls_ca = %q\n", caPath), "", nil},
		{"ca_file", fmt.Sprintf("ca_file = %q\n", caPath), "",
			[]string{"option ca_file is deprecated and will be removed in the next release: rename it to tls_ca"}},
		{"unreadable tls_ca", fmt.Sprintf("tls_ca = %q\n", missing), "tls_ca: open " + missing + ": no such file or directory", nil},
		{"unreadable ca_file", fmt.Sprintf("ca_file = %q\n", missing), "ca_file: open " + missing + ": no such file or directory",
			[]string{"option ca_file is deprecated and will be removed in the next release: rename it to tls_ca"}},
		{"both", fmt.Sprintf("tls_ca = %q\nca_file = %q\n", caPath, caPath), "ca_file: is the former name of tls_ca: set only tls_ca", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := "[[inputs.certexpiry]]\ndomains = [\"a.test\"]\n" + tc.body + "[[inputs.certexpiry.target]]\naddress = \"127.0.0.1\"\n"
			p, err := LoadConfigFile(writeConfig(t, body))
			if err != nil {
				t.Fatal(err)
			}
			log := &warnLog{}
			p.Log = log
			err = p.Init()
			if got := errText(err); got != tc.err {
				t.Errorf("Init: %q, want %q", got, tc.err)
			}
			if !reflect.DeepEqual(log.warnings, tc.warnings) {
				t.Errorf("warnings %q, want %q", log.warnings, tc.warnings)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
