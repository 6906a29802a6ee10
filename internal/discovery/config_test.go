package discovery

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/duration"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestValidateDefaults(t *testing.T) {
	s, err := Validate(&Config{}, []string{"example.com"}, []int{443}, env())
	if err != nil {
		t.Fatal(err)
	}
	want := &Settings{
		Scope:       ScopeCluster,
		Address:     AddressPodIP,
		Ports:       []int{443},
		SyncTimeout: DefaultSyncTimeout,
		Domains:     []string{"example.com"},
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got %+v\nwant %+v", s, want)
	}
}

func TestValidateDecodedTOML(t *testing.T) {
	const doc = `
kube_config = "/etc/kube/config"
kube_context = "prod"
namespaces = ["web", "api", "web"]
kubernetes_label_selector = "app in (web, api)"
kubernetes_field_selector = "status.phase=Running"
pod_scrape_scope = "node"
address = "host_ip"
ports = [8443]
port_names = ["https"]
include_not_ready = true
sync_timeout = "3s"
ingress_domains = true
ignore_domains = ['.*\.internal', "canary\\..*"]
`
	var cfg Config
	md, err := toml.Decode(doc, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Fatalf("keys without a toml tag: %v", u)
	}
	s, err := Validate(&cfg, nil, []int{443}, env("NODE_NAME", "node-7"))
	if err != nil {
		t.Fatal(err)
	}
	if s.FieldSelector != "status.phase=Running,spec.nodeName=node-7" {
		t.Errorf("field selector %q", s.FieldSelector)
	}
	if !reflect.DeepEqual(s.Namespaces, []string{"web", "api"}) || !reflect.DeepEqual(s.IngressNamespaces, []string{"web", "api"}) {
		t.Errorf("namespaces %v, ingress namespaces %v", s.Namespaces, s.IngressNamespaces)
	}
	if s.NodeName != "node-7" || s.Scope != ScopeNode || s.Address != AddressHostIP || s.SyncTimeout != 3*time.Second ||
		!reflect.DeepEqual(s.Ports, []int{8443}) || !reflect.DeepEqual(s.PortNames, []string{"https"}) || !s.IncludeNotReady {
		t.Errorf("settings %+v", s)
	}
	got := MergeDomains(nil, []string{"a.internal", "canary.example.com", "x.internal.example.com"}, s.Ignore)
	if !reflect.DeepEqual(got, []string{"x.internal.example.com"}) {
		t.Errorf("ignore_domains are anchored regexes: kept %v", got)
	}
}

func TestNodeScopeSelectsThePodsOfTheNode(t *testing.T) {
	s, err := Validate(&Config{Scope: ScopeNode}, []string{"a.example"}, []int{443}, env("NODE_NAME", "worker-1"))
	if err != nil {
		t.Fatal(err)
	}
	if s.FieldSelector != "spec.nodeName=worker-1" || s.NodeName != "worker-1" {
		t.Fatalf("field selector %q, node %q", s.FieldSelector, s.NodeName)
	}
	// node_name wins over the environment.
	s, err = Validate(&Config{Scope: ScopeNode, NodeName: "worker-2"}, []string{"a.example"}, []int{443}, env("NODE_NAME", "worker-1"))
	if err != nil || s.FieldSelector != "spec.nodeName=worker-2" {
		t.Fatalf("field selector %q, err %v", s.FieldSelector, err)
	}
}

func TestValidateErrorsNameTheOption(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		domains []string
		env     func(string) string
		want    string
	}{
		{"scope", Config{Scope: "nodes"}, []string{"a.example"}, env(),
			`kubernetes.pod_scrape_scope: must be "cluster" or "node", got "nodes"`},
		{"node without name", Config{Scope: "node"}, []string{"a.example"}, env(),
			`kubernetes.node_name: required in node scope: set node_name or the NODE_NAME environment variable (a DaemonSet sets it from the downward API, fieldRef spec.nodeName)`},
		{"node name in cluster scope", Config{NodeName: "n1"}, []string{"a.example"}, env(),
			`kubernetes.node_name: only used with pod_scrape_scope = "node"`},
		{"address", Config{Address: "pod-ip"}, []string{"a.example"}, env(),
			`kubernetes.address: must be "pod_ip" or "host_ip", got "pod-ip"`},
		{"label selector", Config{LabelSelector: "app in (web"}, []string{"a.example"}, env(),
			`kubernetes.kubernetes_label_selector: "app in (web": `},
		{"field selector", Config{FieldSelector: "spec.nodeName"}, []string{"a.example"}, env(),
			`kubernetes.kubernetes_field_selector: "spec.nodeName": invalid selector: 'spec.nodeName'; can't understand 'spec.nodeName'`},
		{"namespace", Config{Namespaces: []string{"Web"}}, []string{"a.example"}, env(),
			`kubernetes.namespaces: "Web" is not a namespace name: a lowercase RFC 1123 label must consist of`},
		{"port", Config{Ports: []int{0}}, []string{"a.example"}, env(),
			`kubernetes.ports: port 0 out of range 1-65535`},
		{"port name", Config{PortNames: []string{"HTTPS_port"}}, []string{"a.example"}, env(),
			`kubernetes.port_names: "HTTPS_port" is not a port name: `},
		{"sync timeout", Config{SyncTimeout: duration.Duration(-time.Second)}, []string{"a.example"}, env(),
			`kubernetes.sync_timeout: must not be negative, got "-1s"`},
		{"no domains", Config{}, nil, env(),
			`kubernetes: no domains to probe on the pods: set domains at the top level or ingress_domains = true`},
		{"ignore without ingress", Config{IgnoreDomains: []string{"x"}}, []string{"a.example"}, env(),
			`kubernetes.ignore_domains: only used with ingress_domains = true`},
		{"ingress namespaces without ingress", Config{IngressNamespaces: []string{"x"}}, []string{"a.example"}, env(),
			`kubernetes.ingress_namespaces: only used with ingress_domains = true`},
		{"bad ignore regex", Config{IngressDomains: true, IgnoreDomains: []string{"ok", "(unclosed"}}, nil, env(),
			"kubernetes.ignore_domains[1]: \"(unclosed\": error parsing regexp: missing closing ): `^(?:(unclosed)$`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Validate(&tt.cfg, tt.domains, []int{443}, tt.env)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got  %v\nwant %s…", err, tt.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	_, err := Validate(&Config{Scope: "x", Address: "y"}, []string{"a.example"}, []int{443}, env())
	want := "kubernetes.pod_scrape_scope: must be \"cluster\" or \"node\", got \"x\"\nkubernetes.address: must be \"pod_ip\" or \"host_ip\", got \"y\""
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestPortNamesReplaceDefaultPorts(t *testing.T) {
	s, err := Validate(&Config{PortNames: []string{"https"}}, []string{"a.example"}, []int{443}, env())
	if err != nil {
		t.Fatal(err)
	}
	if s.Ports != nil {
		t.Fatalf("with port_names only, the plugin's ports must not be dialled too: %v", s.Ports)
	}
}

func TestMergeDomains(t *testing.T) {
	got := MergeDomains([]string{"b.example", "A.example"},
		[]string{"z.example", "a.example", "*.wild.example", "Z.example.", "", "m.example"}, nil)
	want := []string{"b.example", "A.example", "m.example", "z.example"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}
