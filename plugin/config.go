package plugin

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/probe"
)

// ConfigError is an invalid option; its message starts with the option's name so that the
// line Telegraf logs points straight at the mistake.
type ConfigError struct {
	Option string // e.g. "timeout", "target[2].address"
	Reason string
}

func (e *ConfigError) Error() string { return e.Option + ": " + e.Reason }

func optErr(option, format string, args ...any) error {
	return &ConfigError{Option: option, Reason: fmt.Sprintf(format, args...)}
}

func (c *CertExpiry) validate() error {
	var errs []error
	if err := validateDomains("domains", c.Domains); err != nil {
		errs = append(errs, err)
	}
	if len(c.Ports) == 0 {
		errs = append(errs, optErr("ports", "must list at least one port"))
	}
	if err := validatePorts("ports", c.Ports); err != nil {
		errs = append(errs, err)
	}
	if c.Timeout <= 0 {
		errs = append(errs, optErr("timeout", "must be positive, got %q", time.Duration(c.Timeout)))
	}
	if c.GatherTimeout <= 0 {
		errs = append(errs, optErr("gather_timeout", "must be positive, got %q", time.Duration(c.GatherTimeout)))
	}
	if c.MaxConcurrency < 1 {
		errs = append(errs, optErr("max_concurrency", "must be at least 1, got %d", c.MaxConcurrency))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, optErr("tls_cert", "tls_cert and tls_key must be set together"))
	}
	if err := validateFiles(c.Files); err != nil {
		errs = append(errs, err)
	}
	if len(c.Targets) == 0 && c.Kubernetes == nil && c.CertbotSpool == "" && len(c.Files) == 0 && c.CertManager == nil {
		errs = append(errs, errors.New("no targets: add [[inputs.certexpiry.target]] entries or an [inputs.certexpiry.kubernetes] table"))
	}
	for i, st := range c.Targets {
		opt := fmt.Sprintf("target[%d]", i)
		if err := validateAddress(opt+".address", st.Address); err != nil {
			errs = append(errs, err)
		}
		if err := validateDomains(opt+".domains", st.Domains); err != nil {
			errs = append(errs, err)
		}
		if len(st.Domains) == 0 && len(c.Domains) == 0 {
			errs = append(errs, optErr(opt+".domains", "no domains for %q: set domains here or at the top level", st.Address))
		}
		if err := validatePorts(opt+".ports", st.Ports); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func validateDomains(option string, domains []string) error {
	for _, d := range domains {
		switch {
		case d == "":
			return optErr(option, "empty domain")
		case strings.Contains(d, "://"):
			return optErr(option, "%q is a URL; give the bare domain", d)
		case strings.ContainsAny(d, " \t\r\n/:") && net.ParseIP(d) == nil:
			return optErr(option, "%q is not a domain name", d)
		}
	}
	return nil
}

func validatePorts(option string, ports []int) error {
	for _, p := range ports {
		if p < 1 || p > 65535 {
			return optErr(option, "port %d out of range 1-65535", p)
		}
	}
	return nil
}

func validateAddress(option, addr string) error {
	switch {
	case addr == "":
		return optErr(option, "missing")
	case net.ParseIP(addr) != nil:
		return nil
	case strings.Contains(addr, "://"):
		return optErr(option, "%q is a URL; give the bare host and put the port in ports", addr)
	case strings.HasPrefix(addr, "["):
		return optErr(option, "%q: write IPv6 addresses without brackets and put the port in ports", addr)
	}
	if host, port, err := net.SplitHostPort(addr); err == nil {
		return optErr(option, "%q includes a port; use address = %q and ports = [%s]", addr, host, port)
	}
	for _, label := range strings.Split(strings.TrimSuffix(addr, "."), ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") ||
			strings.IndexFunc(label, func(r rune) bool {
				return !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
			}) >= 0 {
			return optErr(option, "%q is neither an IP address nor a host name", addr)
		}
	}
	return nil
}

// proberConfig loads ca_file and the client key pair.
func (c *CertExpiry) proberConfig() (probe.Config, error) {
	cfg := probe.Config{Timeout: time.Duration(c.Timeout), Now: c.now, Dialer: c.dialer}
	if c.CAFile != "" {
		pemBytes, err := os.ReadFile(c.CAFile)
		if err != nil {
			return cfg, optErr("ca_file", "%v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return cfg, optErr("ca_file", "%s holds no PEM certificate", c.CAFile)
		}
		cfg.Roots = pool
	}
	if c.TLSCert != "" {
		pair, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return cfg, optErr("tls_cert", "loading %s and %s: %v", c.TLSCert, c.TLSKey, err)
		}
		cfg.ClientCertificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
