package plugin

import (
	"fmt"
	"strings"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/discovery"
)

// startupSummary is the one line Start logs at info level: what the plugin will probe, so that
// a misread configuration (a table under the wrong header, a namespace list that was meant to
// be a selector) shows in Telegraf's log before the first gather. Parts not configured are
// left out; a plugin that only reads a certbot spool says so. Example:
//
//	will probe 2 static targets (3 domains, 4 probes); kubernetes: cluster scope, all namespaces, label selector "app=web", 2 domains; files "/etc/ssl/*.pem"; cert_manager: namespaces shop, web
func (c *CertExpiry) startupSummary() string {
	parts := []string{c.staticSummary()}
	if c.kube != nil {
		parts = append(parts, "kubernetes: "+kubernetesSummary(c.kube.settings, c.Kubernetes))
	}
	if len(c.Files) > 0 {
		parts = append(parts, "files "+quotedList(c.Files))
	}
	if c.CertManager != nil {
		parts = append(parts, "cert_manager: "+namespacesSummary(c.CertManager.Namespaces))
	}
	if c.CertbotSpool != "" {
		parts = append(parts, fmt.Sprintf("certbot_spool %q", c.CertbotSpool))
	}
	return "will probe " + strings.Join(parts, "; ")
}

// staticSummary counts the [[inputs.certexpiry.target]] entries, the distinct domains they are
// probed for and the probes (address × port × domain) one gather makes on them.
func (c *CertExpiry) staticSummary() string {
	domains := map[string]bool{}
	probes := 0
	for _, t := range c.static {
		for _, d := range t.Domains {
			domains[d] = true
		}
		probes += len(t.Ports) * len(t.Domains)
	}
	return fmt.Sprintf("%s (%s, %s)", plural(len(c.static), "static target"),
		plural(len(domains), "domain"), plural(probes, "probe"))
}

// kubernetesSummary is the scope of pod discovery: scope (with the node in node scope),
// namespaces, the selectors as the user wrote them, and the domains probed on every pod.
func kubernetesSummary(s *discovery.Settings, cfg *discovery.Config) string {
	scope := s.Scope + " scope"
	if s.Scope == discovery.ScopeNode {
		scope += fmt.Sprintf(" (node %q)", s.NodeName)
	}
	parts := []string{scope, namespacesSummary(s.Namespaces)}
	if s.LabelSelector != "" {
		parts = append(parts, fmt.Sprintf("label selector %q", s.LabelSelector))
	}
	if fs := strings.TrimSpace(cfg.FieldSelector); fs != "" {
		parts = append(parts, fmt.Sprintf("field selector %q", fs))
	}
	domains := plural(len(s.Domains), "domain")
	if s.IngressDomains {
		domains += " plus Ingress hosts"
	}
	return strings.Join(append(parts, domains), ", ")
}

func namespacesSummary(namespaces []string) string {
	if len(namespaces) == 0 {
		return "all namespaces"
	}
	return "namespaces " + strings.Join(namespaces, ", ")
}

func quotedList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
