package plugin

import (
	"reflect"
	"testing"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certmanager"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/discovery"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
)

// Start logs, once and at info level, what the plugin will probe.
func TestStartLogsWhatItWillProbe(t *testing.T) {
	log := &recLog{}
	c := New()
	c.Log = log
	c.Domains = []string{"a.test", "b.test"}
	c.Ports = []int{443, 8443}
	c.Targets = []StaticTarget{{Address: "192.0.2.1"}, {Address: "192.0.2.2", Domains: []string{"c.test"}, Ports: []int{443}}}
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(&metrictest.Accumulator{}); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	want := []string{"I! will probe 2 static targets (3 domains, 5 probes)"}
	if got := log.all(); !reflect.DeepEqual(got, want) {
		t.Errorf("log after Start:\n got %q\nwant %q", got, want)
	}
}

func TestStartupSummary(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(c *CertExpiry)
		want string
	}{
		{
			name: "one static target",
			set: func(c *CertExpiry) {
				c.Domains = []string{"a.test"}
				c.Targets = []StaticTarget{{Address: "host.test"}}
			},
			want: "will probe 1 static target (1 domain, 1 probe)",
		},
		{
			name: "kubernetes cluster scope, all namespaces",
			set: func(c *CertExpiry) {
				c.Domains = []string{"a.test", "b.test"}
				c.Kubernetes = &discovery.Config{KubeConfig: "/nonexistent/kubeconfig"}
			},
			want: "will probe 0 static targets (0 domains, 0 probes); kubernetes: cluster scope, all namespaces, 2 domains",
		},
		{
			name: "kubernetes node scope, namespaces, selectors, ingress hosts",
			set: func(c *CertExpiry) {
				c.Domains = []string{"a.test"}
				c.Kubernetes = &discovery.Config{
					KubeConfig:     "/nonexistent/kubeconfig",
					Scope:          discovery.ScopeNode,
					NodeName:       "node-1",
					Namespaces:     []string{"shop", "web"},
					LabelSelector:  "app=web",
					FieldSelector:  "status.phase=Running",
					IngressDomains: true,
				}
			},
			want: `will probe 0 static targets (0 domains, 0 probes); kubernetes: node scope (node "node-1"), namespaces shop, web, ` +
				`label selector "app=web", field selector "status.phase=Running", 1 domain plus Ingress hosts`,
		},
		{
			name: "files, cert_manager and certbot spool",
			set: func(c *CertExpiry) {
				c.Files = []string{"/etc/ssl/*.pem", "/etc/letsencrypt/live/*/cert.pem"}
				c.CertManager = &certmanager.Config{KubeConfig: "/nonexistent/kubeconfig"}
				c.CertbotSpool = "/var/spool/certexpiry"
			},
			want: `will probe 0 static targets (0 domains, 0 probes); files "/etc/ssl/*.pem", "/etc/letsencrypt/live/*/cert.pem"; ` +
				`cert_manager: all namespaces; certbot_spool "/var/spool/certexpiry"`,
		},
		{
			name: "cert_manager namespaces",
			set: func(c *CertExpiry) {
				c.CertManager = &certmanager.Config{KubeConfig: "/nonexistent/kubeconfig", Namespaces: []string{"prod"}}
			},
			want: "will probe 0 static targets (0 domains, 0 probes); cert_manager: namespaces prod",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New()
			tc.set(c)
			if err := c.Init(); err != nil {
				t.Fatal(err)
			}
			if got := c.startupSummary(); got != tc.want {
				t.Errorf("startup line:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
