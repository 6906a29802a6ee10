package plugin

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/probe"
)

// Measurement is the name of the rows Gather emits, one per probe.
const Measurement = "cert_expiry"

// tags identify the probe and carry its status. Empty tags (namespace, pod and node of a
// static target) are left out, as Telegraf does.
func tags(r *probe.Result) map[string]string {
	t := r.Probe.Target
	out := map[string]string{
		"source":  t.Source,
		"address": t.Address,
		"port":    strconv.Itoa(r.Probe.Port),
		"domain":  r.Probe.Domain,
		"status":  r.Status.String(),
	}
	if t.Namespace != "" {
		out["namespace"] = t.Namespace
	}
	if t.Pod != "" {
		out["pod"] = t.Pod
	}
	if t.Node != "" {
		out["node"] = t.Node
	}
	return out
}

// fields describe the probe's outcome. Every field keeps one type whatever the status (InfluxDB
// rejects a type change); fields with nothing to say are left out rather than zeroed, so a
// failed probe never pretends a certificate expires "now":
//   - always: status_code
//   - when the server sent a certificate: expiry, age, lifetime, not_before, not_after,
//     chain_expiry, verified, verification_error ("" when verified), hostname_match, issuer,
//     subject, serial, fingerprint_sha256, key_type
//   - when a handshake was attempted: handshake_ms; when it completed: tls_version
//   - when the probe failed (unreachable, handshake_failed, timeout): error
func fields(r *probe.Result) map[string]any {
	out := map[string]any{"status_code": int64(r.Status)}
	if leaf := r.Leaf(); leaf != nil {
		chainEnd := leaf.NotAfter
		for _, c := range r.Chain[1:] {
			if c.NotAfter.Before(chainEnd) {
				chainEnd = c.NotAfter
			}
		}
		verifyErr := ""
		if r.VerifyErr != nil {
			verifyErr = r.VerifyErr.Error()
		}
		fp := sha256.Sum256(leaf.Raw)
		out["expiry"] = seconds(leaf.NotAfter.Sub(r.At))
		out["age"] = seconds(r.At.Sub(leaf.NotBefore))
		out["lifetime"] = seconds(leaf.NotAfter.Sub(leaf.NotBefore))
		out["not_before"] = leaf.NotBefore.Unix()
		out["not_after"] = leaf.NotAfter.Unix()
		out["chain_expiry"] = seconds(chainEnd.Sub(r.At))
		out["verified"] = r.Verified
		out["verification_error"] = verifyErr
		out["hostname_match"] = r.HostnameMatch
		out["issuer"] = leaf.Issuer.String()
		out["subject"] = leaf.Subject.String()
		out["serial"] = leaf.SerialNumber.Text(16)
		out["fingerprint_sha256"] = hex.EncodeToString(fp[:])
		out["key_type"] = keyType(leaf)
	}
	if r.Handshake > 0 {
		out["handshake_ms"] = float64(r.Handshake) / float64(time.Millisecond)
	}
	if r.TLSVersion != 0 {
		out["tls_version"] = tls.VersionName(r.TLSVersion)
	}
	if r.Err != nil {
		out["error"] = r.Err.Error()
	}
	return out
}

// seconds truncates toward zero, so a certificate with 0.9 s left reports 0, not 1.
func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// keyType names the leaf's public key, e.g. "RSA-2048", "ECDSA-P256", "Ed25519".
func keyType(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA-" + strconv.Itoa(k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA-" + strings.ReplaceAll(k.Curve.Params().Name, "-", "")
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return c.PublicKeyAlgorithm.String()
}
