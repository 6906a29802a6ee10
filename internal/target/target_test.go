package target

import (
	"reflect"
	"testing"
)

func TestExpandOrderAndCount(t *testing.T) {
	targets := []Target{
		{Address: "127.0.0.2", Ports: []int{443, 8443}, Domains: []string{"a.test", "b.test"}},
		{Address: "::1", Ports: []int{443}, Domains: []string{"c.test"}},
		{Address: "127.0.0.3", Ports: nil, Domains: []string{"never.test"}},
	}
	got := Expand(targets)
	type triple struct {
		addr   string
		port   int
		domain string
	}
	var flat []triple
	for _, p := range got {
		flat = append(flat, triple{p.Target.Address, p.Port, p.Domain})
	}
	want := []triple{
		{"127.0.0.2", 443, "a.test"}, {"127.0.0.2", 443, "b.test"},
		{"127.0.0.2", 8443, "a.test"}, {"127.0.0.2", 8443, "b.test"},
		{"::1", 443, "c.test"},
	}
	if !reflect.DeepEqual(flat, want) {
		t.Fatalf("Expand = %v, want %v", flat, want)
	}
}
