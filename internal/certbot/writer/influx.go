package writer

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// V1Options configures a /write endpoint: InfluxDB 1.x, or Telegraf's influxdb_listener
// (which ignores db and rp unless told otherwise).
type V1Options struct {
	BaseURL         string // http://host:8086, a path prefix is kept
	Database        string // db parameter; omitted when empty
	RetentionPolicy string // rp parameter; omitted when empty
	Username        string
	Password        string
	// QueryAuth sends u= and p= parameters instead of an Authorization: Basic header.
	QueryAuth bool
	Timeout   time.Duration // per attempt; 0: none beyond the client's
}

// V2Options configures an /api/v2/write endpoint: InfluxDB 2.x/3, InfluxDB 1.8+ (bucket
// "db/rp", token "user:password"), or Telegraf's influxdb_v2_listener.
type V2Options struct {
	BaseURL string
	Org     string // org parameter; InfluxDB 2 OSS requires it, the others ignore it
	Bucket  string
	Token   string // Authorization: Token …; omitted when empty
	Timeout time.Duration
}

// NewV1 returns a writer for /write with nanosecond precision.
func NewV1(client *http.Client, o V1Options) (*HTTP, error) {
	q := url.Values{"precision": {"ns"}}
	if o.Database != "" {
		q.Set("db", o.Database)
	}
	if o.RetentionPolicy != "" {
		q.Set("rp", o.RetentionPolicy)
	}
	h := http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	if o.Username != "" {
		if o.QueryAuth {
			q.Set("u", o.Username)
			q.Set("p", o.Password)
		} else {
			req := http.Request{Header: http.Header{}}
			req.SetBasicAuth(o.Username, o.Password)
			h.Set("Authorization", req.Header.Get("Authorization"))
		}
	}
	return newHTTP(client, o.BaseURL, "/write", q, h, o.Timeout)
}

// NewV2 returns a writer for /api/v2/write with nanosecond precision.
func NewV2(client *http.Client, o V2Options) (*HTTP, error) {
	q := url.Values{"precision": {"ns"}}
	if o.Org != "" {
		q.Set("org", o.Org)
	}
	if o.Bucket != "" {
		q.Set("bucket", o.Bucket)
	}
	h := http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	if o.Token != "" {
		h.Set("Authorization", "Token "+o.Token)
	}
	return newHTTP(client, o.BaseURL, "/api/v2/write", q, h, o.Timeout)
}

func newHTTP(client *http.Client, base, path string, q url.Values, h http.Header, timeout time.Duration) (*HTTP, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("writer: base URL %q: want http://host:port or https://host:port", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawPath = ""
	display := u.String()
	u.RawQuery = q.Encode()
	if client == nil {
		client = http.DefaultClient
	}
	c := *client // a copy: the caller's client keeps its own redirect policy
	c.CheckRedirect = noRedirect
	return &HTTP{client: &c, endpoint: u.String(), display: display, header: h, timeout: timeout}, nil
}
