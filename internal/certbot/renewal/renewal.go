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
// When known, serial (lowercase hex) and fingerprint_sha256 (lowercase hex of the DER) name
// the renewed certificate exactly as cert_expiry names the served one, and prev_not_after
// (integer unix seconds) and prev_fingerprint_sha256 name the certificate it replaced: a
// server still presenting that fingerprint has not loaded the renewal.
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
	"unicode/utf8"

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

	FieldSerial                = "serial"
	FieldFingerprintSHA256     = "fingerprint_sha256"
	FieldPrevNotAfter          = "prev_not_after"
	FieldPrevFingerprintSHA256 = "prev_fingerprint_sha256"
)

// ErrInvalid marks a renewal that cannot be written as line protocol.
var ErrInvalid = errors.New("renewal cannot be written as line protocol")

// Cert holds the facts read from the renewed certificate. Empty strings and a nil Prev are
// left out of the line rather than written as empty values.
type Cert struct {
	NotBefore, NotAfter time.Time
	// Serial is the serial number in lowercase hex without leading zeros, as cert_expiry
	// writes it.
	Serial string
	// FingerprintSHA256 is the lowercase hex SHA-256 of the certificate's DER encoding.
	FingerprintSHA256 string
	// Prev is the certificate this renewal replaced, when it is still on disk.
	Prev *PrevCert
}

// PrevCert is the certificate a renewal replaced.
type PrevCert struct {
	NotAfter          time.Time
	FingerprintSHA256 string
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
	if err := checkCert(r.Cert); err != nil {
		return nil, err
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
			addString(&enc, FieldSerial, r.Cert.Serial)
			addString(&enc, FieldFingerprintSHA256, r.Cert.FingerprintSHA256)
			if p := r.Cert.Prev; p != nil {
				enc.AddField(FieldPrevNotAfter, lineprotocol.IntValue(p.NotAfter.Unix()))
				addString(&enc, FieldPrevFingerprintSHA256, p.FingerprintSHA256)
			}
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

// addString adds a string field unless it is empty. Lines has checked that v is valid UTF-8.
func addString(enc *lineprotocol.Encoder, key, v string) {
	if lv, ok := lineprotocol.StringValue(v); ok && v != "" {
		enc.AddField(key, lv)
	}
}

// checkCert refuses certificate strings line protocol cannot hold, naming the field.
func checkCert(c *Cert) error {
	if c == nil {
		return nil
	}
	fields := [][2]string{{FieldSerial, c.Serial}, {FieldFingerprintSHA256, c.FingerprintSHA256}}
	if c.Prev != nil {
		fields = append(fields, [2]string{FieldPrevFingerprintSHA256, c.Prev.FingerprintSHA256})
	}
	for _, f := range fields {
		if !utf8.ValidString(f[1]) {
			return fmt.Errorf("%w: field %s is not valid UTF-8: %q", ErrInvalid, f[0], f[1])
		}
	}
	return nil
}
