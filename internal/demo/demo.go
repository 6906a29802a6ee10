// Package demo sets up a self-contained scene for the certexpiry plugin on loopback: a private
// CA, TLS servers serving a valid, a soon-expiring, an expired and a wrong-domain certificate,
// a closed port, and the plugin and Telegraf configuration files that probe them. `make demo`
// runs it with a real telegraf; the end-to-end tests assert on the very same scene.
package demo

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
)

// Domain is the name every demo server is asked for.
const Domain = "shop.example.test"

// Backend is one demo server and what the plugin must report for it.
type Backend struct {
	Name       string // what it shows, e.g. "expired"
	Address    string // 127.0.0.x
	Port       int
	WantStatus string    // the status tag expected for Domain
	NotAfter   time.Time // the served certificate's notAfter; zero when nothing is served
	server     *testcerts.Server
}

// Scene is a running demo.
type Scene struct {
	Dir            string
	CAFile         string
	PluginConfig   string // plugin.conf for telegraf-certexpiry -config
	TelegrafConfig string // telegraf.conf running the plugin through [[inputs.execd]]
	OutputFile     string // where Telegraf's outputs.file writes line protocol
	Backends       []Backend
}

// Start builds the scene in dir. pluginBinary is the telegraf-certexpiry executable Telegraf
// will run; now dates the certificates (the real clock, since Telegraf runs in real time).
func Start(dir, pluginBinary string, now time.Time) (_ *Scene, err error) {
	const day = 24 * time.Hour
	ca, err := testcerts.NewCA("Demo Root CA", now.Add(-365*day), now.Add(3650*day))
	if err != nil {
		return nil, err
	}
	inter, err := ca.Intermediate("Demo Issuing CA", now.Add(-365*day), now.Add(1000*day))
	if err != nil {
		return nil, err
	}
	type spec struct {
		name, status string
		names        []string
		nb, na       time.Time
		closed       bool
	}
	specs := []spec{
		{name: "valid (90-day certificate, 60 days left)", status: "valid", names: []string{Domain}, nb: now.Add(-30 * day), na: now.Add(60 * day)},
		{name: "soon expiring (5 days left)", status: "valid", names: []string{Domain}, nb: now.Add(-85 * day), na: now.Add(5 * day)},
		{name: "expired two days ago", status: "expired", names: []string{Domain}, nb: now.Add(-92 * day), na: now.Add(-2 * day)},
		{name: "serves another domain's certificate", status: "not_found", names: []string{"other.example.test"}, nb: now.Add(-day), na: now.Add(89 * day)},
		{name: "nothing listening", status: "unreachable", closed: true},
	}
	s := &Scene{Dir: dir, CAFile: filepath.Join(dir, "demo-ca.pem"), PluginConfig: filepath.Join(dir, "plugin.conf"),
		TelegrafConfig: filepath.Join(dir, "telegraf.conf"), OutputFile: filepath.Join(dir, "metrics.out")}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	for i, sp := range specs {
		addr := "127.0.0." + strconv.Itoa(i+1)
		b := Backend{Name: sp.name, Address: addr, WantStatus: sp.status}
		if sp.closed {
			if b.Port, err = unusedPort(addr); err != nil {
				return nil, err
			}
		} else {
			leaf, err := inter.Issue(testcerts.Options{CommonName: sp.names[0], DNSNames: sp.names, NotBefore: sp.nb, NotAfter: sp.na})
			if err != nil {
				return nil, err
			}
			if b.server, err = testcerts.ServeLeaf(addr+":0", leaf); err != nil {
				return nil, err
			}
			b.Port, b.NotAfter = b.server.Port(), leaf.Cert.NotAfter
		}
		s.Backends = append(s.Backends, b)
	}
	for path, body := range map[string][]byte{
		s.CAFile:         ca.CertPEM(),
		s.PluginConfig:   []byte(s.pluginConfig()),
		s.TelegrafConfig: []byte(s.telegrafConfig(pluginBinary)),
	} {
		if err = os.WriteFile(path, body, 0o644); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Scene) pluginConfig() string {
	out := fmt.Sprintf(`# The certexpiry plugin's own configuration, read by telegraf-certexpiry -config.
[[inputs.certexpiry]]
  domains = [%q]
  timeout = "2s"
  gather_timeout = "10s"
  tls_ca = %q
`, Domain, s.CAFile)
	for _, b := range s.Backends {
		out += fmt.Sprintf(`
  # %s
  [[inputs.certexpiry.target]]
    address = %q
    ports = [%d]
`, b.Name, b.Address, b.Port)
	}
	return out
}

func (s *Scene) telegrafConfig(pluginBinary string) string {
	return fmt.Sprintf(`[agent]
  interval = "10s"
  omit_hostname = true
  debug = false

[[inputs.execd]]
  command = [%q, "-config", %q, "-poll_interval_disabled"]
  # Telegraf writes a newline to our stdin at every interval; we gather once per line.
  signal = "STDIN"
  data_format = "influx"
  restart_delay = "10s"

[[outputs.file]]
  files = [%q]
  data_format = "influx"
`, pluginBinary, s.PluginConfig, s.OutputFile)
}

// unusedPort returns a port on addr that nothing listens on (it was free a moment ago).
func unusedPort(addr string) (int, error) {
	l, err := net.Listen("tcp", addr+":0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Close stops every server.
func (s *Scene) Close() error {
	var errs []error
	for _, b := range s.Backends {
		if b.server != nil {
			errs = append(errs, b.server.Close())
		}
	}
	return errors.Join(errs...)
}
