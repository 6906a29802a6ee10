package option

import (
	"errors"
	"testing"
)

func TestErrorNamesTheOption(t *testing.T) {
	err := Errorf("timeout", "must be positive, got %q", "0s")
	if err.Error() != `timeout: must be positive, got "0s"` || err.Reason() != `must be positive, got "0s"` {
		t.Fatalf("%q / %q", err.Error(), err.Reason())
	}
}

func TestRenameTakesNamesFromData(t *testing.T) {
	flags := map[Name]Name{"tls_cert": "-tls-cert", "tls_key": "-tls-key", "timeout": "-timeout"}
	rename := func(n Name) Name {
		if f, ok := flags[n]; ok {
			return f
		}
		return n
	}
	other := errors.New("no targets")
	err := errors.Join(
		Errorf("tls_cert", "%s and %s must be set together", Name("tls_cert"), Name("tls_key")),
		Errorf("domains", "%q is not a domain name", "tls_cert"), // a value, not a name: kept
		other,
	)
	got := Rename(err, rename)
	want := "-tls-cert: -tls-cert and -tls-key must be set together\ndomains: \"tls_cert\" is not a domain name\nno targets"
	if got.Error() != want {
		t.Fatalf("renamed:\n%s\nwant:\n%s", got, want)
	}
	if !errors.Is(got, other) {
		t.Error("other errors are not kept")
	}
	if one := Rename(Errorf("timeout", "must be positive"), rename); one.Error() != "-timeout: must be positive" {
		t.Errorf("single error: %q", one)
	}
	if Rename(nil, rename) != nil {
		t.Error("nil is not kept")
	}
	// The original is unchanged: the plugin's own messages keep the option names.
	if err.Error() != "tls_cert: tls_cert and tls_key must be set together\ndomains: \"tls_cert\" is not a domain name\nno targets" {
		t.Errorf("original changed: %q", err)
	}
}

func TestPorts(t *testing.T) {
	for p, ok := range map[int]bool{0: false, 1: true, 443: true, 65535: true, 65536: false, -1: false} {
		if ValidPort(p) != ok {
			t.Errorf("ValidPort(%d) = %v", p, !ok)
		}
	}
	if err := Ports("ports", []int{443, 70000, 0}); err == nil || err.Error() != "ports: port 70000 out of range 1-65535" {
		t.Errorf("Ports: %v", err)
	}
	if err := Ports("ports", []int{443, 8443}); err != nil {
		t.Errorf("Ports: %v", err)
	}
}
