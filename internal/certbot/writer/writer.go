// Package writer posts line protocol to the hook's destinations: InfluxDB 1.x /write (also
// Telegraf's influxdb_listener) and /api/v2/write (InfluxDB 2.x/3, InfluxDB 1.8+, Telegraf's
// influxdb_v2_listener), each attempt bounded by a timeout, with retries on 5xx and connection
// errors (never on 4xx: the request itself is wrong and would fail again). A redirect is a
// failure, never followed: the write goes to the configured address or nowhere.
package writer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Writer delivers a batch of newline-terminated line protocol. A nil error means the server
// accepted the whole batch.
type Writer interface {
	Write(ctx context.Context, lines []byte) error
}

// StatusError is a non-2xx answer. Body is the server's explanation, trimmed.
type StatusError struct {
	URL    string // without credentials
	Status string // "404 Not Found"
	Code   int
	Body   string
	// Location is where a redirect (3xx) points, resolved against URL; it may hold the
	// request's query (credentials with v1_auth = "query"), so Error shows it without.
	Location string
}

func (e *StatusError) Error() string {
	if e.Code/100 == 3 {
		return fmt.Sprintf("%s answered %s: redirect to %s; a write is never sent on to another address: set url to the address the server answers on", e.URL, e.Status, withoutQuery(e.Location))
	}
	if e.Body == "" {
		return fmt.Sprintf("%s answered %s", e.URL, e.Status)
	}
	return fmt.Sprintf("%s answered %s: %s", e.URL, e.Status, e.Body)
}

// Retryable reports whether the same request may succeed later: server errors (5xx) may; a
// 4xx (bad line, wrong database, bad credentials) or a redirect (3xx) will not.
func (e *StatusError) Retryable() bool { return e.Code >= 500 }

// Rejected reports whether the server refused the data itself (400 Bad Request, 422
// Unprocessable Entity: unparsable line, field type conflict) rather than the request's
// settings (401, 403, 404 database not found, 413 ...). Rejected data will never be accepted.
func (e *StatusError) Rejected() bool {
	return e.Code == http.StatusBadRequest || e.Code == http.StatusUnprocessableEntity
}

// withoutQuery shows a redirect target without user info and query.
func withoutQuery(loc string) string {
	if loc == "" {
		return "nowhere (no Location header)"
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "an unparsable Location header"
	}
	u.User = nil
	u.Fragment = ""
	if u.RawQuery == "" {
		return u.String()
	}
	u.RawQuery = ""
	return u.String() + " (query not shown)"
}

// TransportError is a failure to get any answer: connection refused, timeout, TLS.
type TransportError struct {
	URL string
	Err error
}

func (e *TransportError) Error() string { return fmt.Sprintf("posting to %s: %v", e.URL, e.Err) }
func (e *TransportError) Unwrap() error { return e.Err }

// Retryable reports whether err is worth another attempt.
func Retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Retryable()
	}
	var te *TransportError
	return errors.As(err, &te)
}

// maxBody bounds how much of an error answer is kept for the message.
const maxBody = 1024

// noRedirect stops the client at a redirect: Go's client would re-send a 301/302/303 as a GET
// without the body, and the new address's 200 would count as a delivery. A write goes to the
// configured address or fails.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// HTTP posts to one endpoint. Build it with NewV1 or NewV2.
type HTTP struct {
	client   *http.Client
	endpoint string // full URL with query
	display  string // endpoint without query (no credentials), for messages
	header   http.Header
	timeout  time.Duration
}

// Write posts lines once.
func (w *HTTP) Write(ctx context.Context, lines []byte) error {
	if w.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.endpoint, bytes.NewReader(lines))
	if err != nil {
		return fmt.Errorf("building request for %s: %w", w.display, err)
	}
	for k, v := range w.header {
		req.Header[k] = v
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// Do's *url.Error repeats the full URL, query credentials included: keep only the cause.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return &TransportError{URL: w.display, Err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	if resp.StatusCode/100 == 3 {
		loc := resp.Header.Get("Location")
		if u, err := resp.Location(); err == nil {
			loc = u.String()
		}
		return &StatusError{URL: w.display, Status: resp.Status, Code: resp.StatusCode, Location: loc}
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > maxBody {
		msg = msg[:maxBody] + "…"
	}
	return &StatusError{URL: w.display, Status: resp.Status, Code: resp.StatusCode, Body: msg}
}

// URL is the endpoint without query parameters.
func (w *HTTP) URL() string { return w.display }
