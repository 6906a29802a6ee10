// Package renewal turns one certbot renewal into line protocol, in the shape the Flux queries
// of the original Python deploy hook (and this repository's flux/ queries) read:
//
//	certbot_renewal,domain=all,host=H renewed_count=N <ns>
//	certbot_renewal,domain=D,host=H renewed_count=1 <ns>   (one per renewed domain)
//
// All points of one renewal share one nanosecond timestamp. renewed_count is a float, as the
// Python hook wrote it (`renewed_count=1` without an `i` suffix is a float in line protocol),
// because those queries `fill(value: 0.0)` that column and Flux refuses a float fill on an
// integer column. When the certificate is known, every point also carries not_before and not_after
// (integer unix seconds) and lifetime (integer seconds, not_after − not_before, as the
// cert_expiry input computes it), so that alerts can scale with the certificate's lifetime.
//
// Escaping is done by github.com/influxdata/line-protocol/v2's Encoder; values it cannot
// represent at all (control characters, a trailing backslash, invalid UTF-8) are an error
// naming the tag, never silently altered.
package renewal

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// DefaultMeasurement is the measurement name when Renewal.Measurement is empty.
const DefaultMeasurement = "certbot_renewal"

// AllDomains is the domain tag value of the per-renewal summary point.
const AllDomains = "all"

// Tag and field keys.
const (
	TagDomain         = "domain"
	TagHost           = "host"
	FieldRenewedCount = "renewed_count"
	FieldNotBefore    = "not_before"
	FieldNotAfter     = "not_after"
	FieldLifetime     = "lifetime"
)

// ErrInvalid marks a renewal that cannot be written as line protocol.
var ErrInvalid = errors.New("renewal cannot be written as line protocol")

// Cert holds the facts read from the renewed certificate.
type Cert struct {
	NotBefore, NotAfter time.Time
}

// Lifetime is NotAfter − NotBefore in whole seconds.
func (c Cert) Lifetime() int64 { return int64(c.NotAfter.Sub(c.NotBefore) / time.Second) }

// Renewal is one successful certbot renewal of one lineage.
type Renewal struct {
	// Measurement defaults to DefaultMeasurement.
	Measurement string
	// Host is the host tag; required.
	Host string
	// Domains are the renewed names (RENEWED_DOMAINS); at least one.
	Domains []string
	// Tags are extra tags added to every point; "domain" and "host" are reserved.
	Tags map[string]string
	// Cert, when not nil, adds not_before, not_after and lifetime to every point.
	Cert *Cert
	// Time is the timestamp of every point (nanosecond precision); required.
	Time time.Time
}

// ParseDomains splits certbot's RENEWED_DOMAINS (space separated) into names, dropping empty
// items and repeats while keeping certbot's order.
func ParseDomains(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range strings.Fields(s) {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// Lines encodes r as newline-terminated line protocol: the domain=all point first, then one
// point per domain in the given order.
func Lines(r Renewal) ([]byte, error) {
	if r.Measurement == "" {
		r.Measurement = DefaultMeasurement
	}
	switch {
	case r.Host == "":
		return nil, fmt.Errorf("%w: host is empty", ErrInvalid)
	case len(r.Domains) == 0:
		return nil, fmt.Errorf("%w: no domains", ErrInvalid)
	case r.Time.IsZero():
		return nil, fmt.Errorf("%w: no timestamp", ErrInvalid)
	}
	for _, k := range []string{TagDomain, TagHost} {
		if _, ok := r.Tags[k]; ok {
			return nil, fmt.Errorf("%w: extra tag %q is reserved", ErrInvalid, k)
		}
	}
	var enc lineprotocol.Encoder
	enc.SetPrecision(lineprotocol.Nanosecond)
	point := func(domain string, count int) {
		tags := make(map[string]string, len(r.Tags)+2)
		for k, v := range r.Tags {
			tags[k] = v
		}
		tags[TagDomain] = domain
		tags[TagHost] = r.Host
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		// The encoder requires tags in lexical key order (the canonical order InfluxDB
		// stores anyway).
		sort.Strings(keys)
		enc.StartLine(r.Measurement)
		for _, k := range keys {
			enc.AddTag(k, tags[k])
		}
		v, _ := lineprotocol.FloatValue(float64(count))
		enc.AddField(FieldRenewedCount, v)
		if r.Cert != nil {
			enc.AddField(FieldNotBefore, lineprotocol.IntValue(r.Cert.NotBefore.Unix()))
			enc.AddField(FieldNotAfter, lineprotocol.IntValue(r.Cert.NotAfter.Unix()))
			enc.AddField(FieldLifetime, lineprotocol.IntValue(r.Cert.Lifetime()))
		}
		enc.EndLine(r.Time)
	}
	point(AllDomains, len(r.Domains))
	for _, d := range r.Domains {
		point(d, 1)
	}
	if err := enc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return enc.Bytes(), nil
}
