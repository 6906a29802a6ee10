package renewal

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
)

var at = time.Unix(1656169934, 438253518)

func TestLinesSeedShape(t *testing.T) {
	got, err := Lines(Renewal{Host: "optimus", Domains: []string{"test.example", "www.test.example"}, Time: at})
	if err != nil {
		t.Fatal(err)
	}
	want := "certbot_renewal,domain=all,host=optimus renewed_count=2 1656169934438253518\n" +
		"certbot_renewal,domain=test.example,host=optimus renewed_count=1 1656169934438253518\n" +
		"certbot_renewal,domain=www.test.example,host=optimus renewed_count=1 1656169934438253518\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestLinesCertFieldsAndExtraTags(t *testing.T) {
	nb := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	cert := &Cert{NotBefore: nb, NotAfter: nb.Add(90*24*time.Hour - time.Second)}
	got, err := Lines(Renewal{
		Measurement: "renewals",
		Host:        "web 1",
		Domains:     []string{"a.example"},
		Tags:        map[string]string{"zone": "eu", "env": "prod"},
		Cert:        cert,
		Time:        at,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Tags sorted by key; the host's space escaped by the encoder.
	want := "renewals,domain=all,env=prod,host=web\\ 1,zone=eu renewed_count=1,not_before=1795334400i,not_after=1803110399i,lifetime=7775999i 1656169934438253518\n" +
		"renewals,domain=a.example,env=prod,host=web\\ 1,zone=eu renewed_count=1,not_before=1795334400i,not_after=1803110399i,lifetime=7775999i 1656169934438253518\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestLinesEscaping feeds names that need escaping and checks both the exact bytes and that a
// line protocol decoder reads back the very same tag values.
func TestLinesEscaping(t *testing.T) {
	domains := []string{"*.wild.example", "comma,name", "eq=name", `back\slash.example`, "xn--bcher-kva.example", "bücher.example", `quote"d`}
	got, err := Lines(Renewal{Host: "host with  spaces", Domains: domains, Time: at})
	if err != nil {
		t.Fatal(err)
	}
	wantLines := []string{
		`certbot_renewal,domain=all,host=host\ with\ \ spaces renewed_count=7 1656169934438253518`,
		`certbot_renewal,domain=*.wild.example,host=host\ with\ \ spaces renewed_count=1 1656169934438253518`,
		`certbot_renewal,domain=comma\,name,host=host\ with\ \ spaces renewed_count=1 1656169934438253518`,
		`certbot_renewal,domain=eq\=name,host=host\ with\ \ spaces renewed_count=1 1656169934438253518`,
		`certbot_renewal,domain=back\slash.example,host=host\ with\ \ spaces renewed_count=1 1656169934438253518`,
		`certbot_renewal,domain=xn--bcher-kva.example,host=host\ with\ \ spaces renewed_count=1 1656169934438253518`,
		`certbot_renewal,domain=bücher.example,host=host\ with\ \ spaces renewed_count=1 1656169934438253518`,
		`certbot_renewal,domain=quote"d,host=host\ with\ \ spaces renewed_count=1 1656169934438253518`,
	}
	if want := strings.Join(wantLines, "\n") + "\n"; string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	pts := decode(t, got)
	if len(pts) != len(domains)+1 {
		t.Fatalf("decoded %d points, want %d", len(pts), len(domains)+1)
	}
	for i, d := range domains {
		if pts[i+1].Tags["domain"] != d || pts[i+1].Tags["host"] != "host with  spaces" {
			t.Errorf("point %d tags %v, want domain %q", i+1, pts[i+1].Tags, d)
		}
	}
}

func TestLinesErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Renewal
		want string
	}{
		{"no host", Renewal{Domains: []string{"a"}, Time: at}, "renewal cannot be written as line protocol: host is empty"},
		{"no domains", Renewal{Host: "h", Time: at}, "renewal cannot be written as line protocol: no domains"},
		{"no time", Renewal{Host: "h", Domains: []string{"a"}}, "renewal cannot be written as line protocol: no timestamp"},
		{"reserved tag", Renewal{Host: "h", Domains: []string{"a"}, Tags: map[string]string{"host": "x"}, Time: at}, `renewal cannot be written as line protocol: extra tag "host" is reserved`},
		{"control char", Renewal{Host: "h", Domains: []string{"a", "b\nc"}, Time: at}, `renewal cannot be written as line protocol: encoding point 2: invalid tag value domain="b\nc"`},
		{"trailing backslash host", Renewal{Host: `h\`, Domains: []string{"a"}, Time: at}, `renewal cannot be written as line protocol: invalid tag value host="h\\"`},
		{"empty tag value", Renewal{Host: "h", Domains: []string{"a"}, Tags: map[string]string{"env": ""}, Time: at}, `renewal cannot be written as line protocol: invalid tag value env=""`},
		{"bad measurement", Renewal{Measurement: "m\x00", Host: "h", Domains: []string{"a"}, Time: at}, `renewal cannot be written as line protocol: invalid measurement "m\x00"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Lines(tc.r)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid")
			}
		})
	}
}

func TestParseDomains(t *testing.T) {
	got := ParseDomains("  b.example a.example\tb.example  c.example ")
	want := []string{"b.example", "a.example", "c.example"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := ParseDomains(" "); got != nil {
		t.Errorf("blank: got %q, want nil", got)
	}
}

// decode reads line protocol back; a test fails on any line it cannot decode.
func decode(t testing.TB, b []byte) []metrictest.Row {
	t.Helper()
	rows, err := metrictest.ParseLineProtocol(b)
	if err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
	return rows
}

// FuzzLines checks that whatever host, domains and extra tag value come in, Lines either
// refuses them with ErrInvalid or writes line protocol that decodes to exactly those values:
// one summary point plus one per distinct domain, all at the same timestamp.
func FuzzLines(f *testing.F) {
	f.Add("optimus", "test.example www.test.example", "prod", int64(1656169934438253518))
	f.Add("host with spaces", "comma,name eq=name *.wild.example", "a b", int64(0))
	f.Add(`back\slash`, `x\ y\`, `"quoted"`, int64(-1))
	f.Add("tab\there", "bücher.example \x00nul", "=", int64(1))
	f.Add("h", "a\\ b", "\\", int64(42))
	f.Fuzz(func(t *testing.T, host, domains, tag string, ns int64) {
		ds := ParseDomains(domains)
		ts := time.Unix(0, ns)
		b, err := Lines(Renewal{Host: host, Domains: ds, Tags: map[string]string{"extra": tag}, Time: ts})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		pts := decode(t, b)
		if len(pts) != len(ds)+1 {
			t.Fatalf("%q: %d points, want %d", b, len(pts), len(ds)+1)
		}
		for i, p := range pts {
			wantDomain, wantCount := AllDomains, float64(len(ds))
			if i > 0 {
				wantDomain, wantCount = ds[i-1], 1
			}
			want := map[string]string{"domain": wantDomain, "host": host, "extra": tag}
			if !reflect.DeepEqual(p.Tags, want) || p.Measurement != DefaultMeasurement {
				t.Fatalf("%q point %d: %s %v, want %v", b, i, p.Measurement, p.Tags, want)
			}
			if p.Fields[FieldRenewedCount] != wantCount || !p.Time.Equal(ts) {
				t.Fatalf("%q point %d: fields %v time %v", b, i, p.Fields, p.Time)
			}
		}
	})
}

// TestLinesIdentityFields: serial and fingerprint of the renewed certificate and expiry and
// fingerprint of the replaced one follow lifetime on every point; empty ones are left out.
func TestLinesIdentityFields(t *testing.T) {
	nb := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	cert := &Cert{
		NotBefore: nb, NotAfter: nb.Add(90 * 24 * time.Hour),
		Serial: "3f0a", FingerprintSHA256: "aa11",
		Prev: &PrevCert{NotAfter: nb.Add(30 * 24 * time.Hour), FingerprintSHA256: "bb22"},
	}
	got, err := Lines(Renewal{Host: "h", Domains: []string{"a.example"}, Cert: cert, Time: at})
	if err != nil {
		t.Fatal(err)
	}
	f := `renewed_count=1,not_before=1795334400i,not_after=1803110400i,lifetime=7776000i,serial="3f0a",fingerprint_sha256="aa11",prev_not_after=1797926400i,prev_fingerprint_sha256="bb22" 1656169934438253518`
	want := "certbot_renewal,domain=all,host=h " + f + "\n" + "certbot_renewal,domain=a.example,host=h " + f + "\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	rows := decode(t, got)
	if rows[1].Fields[FieldPrevFingerprintSHA256] != "bb22" || rows[1].Fields[FieldPrevNotAfter] != int64(1797926400) {
		t.Errorf("decoded fields %v", rows[1].Fields)
	}

	// Without a previous certificate, and with the fingerprint unknown.
	cert.Prev, cert.FingerprintSHA256 = nil, ""
	got, err = Lines(Renewal{Host: "h", Domains: []string{"a.example"}, Cert: cert, Time: at})
	if err != nil {
		t.Fatal(err)
	}
	if w := `certbot_renewal,domain=a.example,host=h renewed_count=1,not_before=1795334400i,not_after=1803110400i,lifetime=7776000i,serial="3f0a" 1656169934438253518`; !strings.Contains(string(got), w+"\n") {
		t.Errorf("got\n%s\nwant a line\n%s", got, w)
	}
}

func TestLinesIdentityFieldsInvalid(t *testing.T) {
	nb := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		cert Cert
		want string
	}{
		{Cert{NotBefore: nb, NotAfter: nb, Serial: "\xff"}, `renewal cannot be written as line protocol: field serial is not valid UTF-8: "\xff"`},
		{Cert{NotBefore: nb, NotAfter: nb, Prev: &PrevCert{FingerprintSHA256: "a\xfe"}}, `renewal cannot be written as line protocol: field prev_fingerprint_sha256 is not valid UTF-8: "a\xfe"`},
	} {
		_, err := Lines(Renewal{Host: "h", Domains: []string{"a"}, Cert: &tc.cert, Time: at})
		if err == nil || err.Error() != tc.want || !errors.Is(err, ErrInvalid) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
}
