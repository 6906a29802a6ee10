package probe

import "fmt"

// Status is the outcome of one probe. Its numeric value is the `status_code` field and never
// changes meaning; String gives the `status` tag.
type Status int

// Statuses, in status_code order.
const (
	// StatusValid: a certificate covering the domain was served and is within its validity period.
	StatusValid Status = iota
	// StatusExpired: the served leaf certificate's notAfter has passed.
	StatusExpired
	// StatusNotYetValid: the served leaf certificate's notBefore is in the future.
	StatusNotYetValid
	// StatusNotFound: the server answered but served no certificate covering the domain.
	StatusNotFound
	// StatusUnreachable: the TCP connection could not be made (refused, no route, DNS failure).
	StatusUnreachable
	// StatusHandshakeFailed: TCP connected but the TLS handshake failed (not a timeout).
	StatusHandshakeFailed
	// StatusTimeout: dial or handshake did not finish within the per-probe timeout or the
	// gather budget.
	StatusTimeout
)

var statusNames = [...]string{"valid", "expired", "not_yet_valid", "not_found", "unreachable", "handshake_failed", "timeout"}

// String returns the status tag value, e.g. "not_yet_valid".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Statuses lists every status in status_code order.
func Statuses() []Status {
	out := make([]Status, len(statusNames))
	for i := range out {
		out[i] = Status(i)
	}
	return out
}
