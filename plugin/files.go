package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certfile"
)

// FileMeasurement is the name of the rows the files option emits.
const FileMeasurement = "cert_file"

// validateFiles checks the files option's glob patterns.
func validateFiles(patterns []string) error {
	for i, p := range patterns {
		if err := certfile.ValidatePattern(p); err != nil {
			return optErr(fmt.Sprintf("files[%d]", i), "%v", err)
		}
	}
	return nil
}

// gatherFiles reads every file the patterns match and adds cert_file rows, all stamped at:
//   - a certificate: one row per name it is for (DNS names; else IP addresses; else the
//     subject CN; a certificate with none of them gets one row without a domain tag), with
//     tags path, domain, status and fields status_code, expiry, not_before, not_after,
//     lifetime, serial, fingerprint_sha256, chain_expiry, as cert_expiry has them;
//   - a file that cannot be read or holds no certificate, or a pattern that matches nothing:
//     one row without a domain tag, with status_code and error.
func gatherFiles(patterns []string, acc telegraf.Accumulator, at time.Time) {
	for _, r := range certfile.ReadAll(patterns, at) {
		tags := map[string]string{"path": r.Path, "status": r.Status.String()}
		if r.Leaf == nil {
			acc.AddFields(FileMeasurement, map[string]any{"status_code": int64(r.Status), "error": r.Err.Error()}, tags, at)
			continue
		}
		f := fileFields(&r, at)
		names := certfile.Names(r.Leaf)
		if len(names) == 0 {
			acc.AddFields(FileMeasurement, f, tags, at)
			continue
		}
		for _, name := range names {
			t := map[string]string{"path": r.Path, "status": tags["status"], "domain": name}
			acc.AddFields(FileMeasurement, copyFields(f), t, at)
		}
	}
}

func fileFields(r *certfile.Result, at time.Time) map[string]any {
	leaf := r.Leaf
	fp := sha256.Sum256(leaf.Raw)
	return map[string]any{
		"status_code":        int64(r.Status),
		"expiry":             seconds(leaf.NotAfter.Sub(at)),
		"not_before":         leaf.NotBefore.Unix(),
		"not_after":          leaf.NotAfter.Unix(),
		"lifetime":           seconds(leaf.NotAfter.Sub(leaf.NotBefore)),
		"serial":             leaf.SerialNumber.Text(16),
		"fingerprint_sha256": hex.EncodeToString(fp[:]),
		"chain_expiry":       seconds(r.ChainNotAfter().Sub(at)),
	}
}

// copyFields gives each row its own map: an accumulator may keep or alter what it is given.
func copyFields(f map[string]any) map[string]any {
	out := make(map[string]any, len(f))
	for k, v := range f {
		out[k] = v
	}
	return out
}
