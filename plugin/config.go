package plugin

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	ttls "github.com/influxdata/telegraf/plugins/common/tls"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/option"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/probe"
)

// optErr is an invalid option (*option.Error): its message starts with the option's name, e.g.
// "timeout", "target[2].address", so that the line Telegraf logs points straight at the mistake.
func optErr(name, format string, args ...any) error {
	return option.Errorf(option.Name(name), format, args...)
}

func (c *CertExpiry) validate() error {
	var errs []error
	if err := validateDomains("domains", c.Domains); err != nil {
		errs = append(errs, err)
	}
	if len(c.Ports) == 0 {
		errs = append(errs, optErr("ports", "must list at least one port"))
	}
	if err := option.Ports("ports", c.Ports); err != nil {
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
	if c.CAFile != "" {
		if c.TLSCA != "" {
			errs = append(errs, optErr("ca_file", "is the former name of %s: set only %s", option.Name("tls_ca"), option.Name("tls_ca")))
		} else if c.Log != nil {
			c.Log.Warnf("option ca_file is deprecated and will be removed in the next release: rename it to tls_ca")
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, optErr("tls_cert", "%s and %s must be set together", option.Name("tls_cert"), option.Name("tls_key")))
	}
	if c.TLSKeyPwd != "" && c.TLSKey == "" {
		errs = append(errs, optErr("tls_key_pwd", "only used with %s", option.Name("tls_key")))
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
		if err := option.Ports(option.Name(opt+".ports"), st.Ports); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func validateDomains(name string, domains []string) error {
	for _, d := range domains {
		switch {
		case d == "":
			return optErr(name, "empty domain")
		case strings.Contains(d, "://"):
			return optErr(name, "%q is a URL; give the bare domain", d)
		case strings.ContainsAny(d, " \t\r\n/:") && net.ParseIP(d) == nil:
			return optErr(name, "%q is not a domain name", d)
		}
		// An internationalised domain is probed as its A-label form: refuse one that has none.
		if _, err := probe.ASCIIDomain(d); err != nil {
			return optErr(name, "%q is not a valid internationalised domain name: %v", d, err)
		}
	}
	return nil
}

func validateAddress(name, addr string) error {
	switch {
	case addr == "":
		return optErr(name, "missing")
	case net.ParseIP(addr) != nil:
		return nil
	case strings.Contains(addr, "://"):
		return optErr(name, "%q is a URL; give the bare host and put the port in ports", addr)
	case strings.HasPrefix(addr, "["):
		return optErr(name, "%q: write IPv6 addresses without brackets and put the port in ports", addr)
	}
	if host, port, err := net.SplitHostPort(addr); err == nil {
		return optErr(name, "%q includes a port; use address = %q and ports = [%s]", addr, host, port)
	}
	for _, label := range strings.Split(strings.TrimSuffix(addr, "."), ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") ||
			strings.IndexFunc(label, func(r rune) bool {
				return !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
			}) >= 0 {
			return optErr(name, "%q is neither an IP address nor a host name", addr)
		}
	}
	return nil
}

// proberConfig loads tls_ca (or its former name ca_file) and the client key pair.
func (c *CertExpiry) proberConfig() (probe.Config, error) {
	cfg := probe.Config{Timeout: time.Duration(c.Timeout), Now: c.now, Dialer: c.dialer}
	caOption, caFile := "tls_ca", c.TLSCA
	if caFile == "" && c.CAFile != "" {
		caOption, caFile = "ca_file", c.CAFile
	}
	if caFile != "" {
		pemBytes, err := os.ReadFile(caFile)
		if err != nil {
			return cfg, optErr(caOption, "%v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return cfg, optErr(caOption, "%s holds no PEM certificate", caFile)
		}
		cfg.Roots = pool
	}
	if c.TLSCert != "" {
		// Telegraf's own loader, so that tls_key_pwd decrypts keys as in every Telegraf plugin.
		client := ttls.ClientConfig{TLSCert: c.TLSCert, TLSKey: c.TLSKey, TLSKeyPwd: c.TLSKeyPwd}
		loaded, err := client.TLSConfig()
		if err != nil {
			return cfg, optErr("tls_cert", "loading %s and %s: %v", c.TLSCert, c.TLSKey, err)
		}
		cfg.ClientCertificates = loaded.Certificates
	}
	return cfg, nil
}
