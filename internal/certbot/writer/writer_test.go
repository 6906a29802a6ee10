package writer

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type seen struct {
	Method, Path, Query, Auth, ContentType, Body string
}

// recorder is a loopback HTTP server answering with the given codes in turn (the last one
// repeats) and recording each request.
func recorder(t *testing.T, codes []int, body string) (*httptest.Server, *[]seen) {
	t.Helper()
	var mu sync.Mutex
	var reqs []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)})
		code := codes[min(len(reqs), len(codes))-1]
		mu.Unlock()
		if code != http.StatusNoContent {
			w.WriteHeader(code)
			io.WriteString(w, body)
			return
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	return srv, &reqs
}

const lines = "certbot_renewal,domain=all,host=h renewed_count=1 1\n"

func TestV1Request(t *testing.T) {
	srv, reqs := recorder(t, []int{204}, "")
	w, err := NewV1(srv.Client(), V1Options{BaseURL: srv.URL + "/influx/", Database: "tele graf", RetentionPolicy: "autogen", Username: "certbot", Password: "pa$$:word"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(context.Background(), []byte(lines)); err != nil {
		t.Fatal(err)
	}
	want := []seen{{"POST", "/influx/write", "db=tele+graf&precision=ns&rp=autogen", "Basic Y2VydGJvdDpwYSQkOndvcmQ=", "text/plain; charset=utf-8", lines}}
	if !reflect.DeepEqual(*reqs, want) {
		t.Errorf("got  %+v\nwant %+v", *reqs, want)
	}
	if w.URL() != srv.URL+"/influx/write" {
		t.Errorf("URL() = %s", w.URL())
	}
}

func TestV1QueryAuth(t *testing.T) {
	srv, reqs := recorder(t, []int{204}, "")
	w, _ := NewV1(srv.Client(), V1Options{BaseURL: srv.URL, Database: "db", Username: "u", Password: "p&q", QueryAuth: true})
	if err := w.Write(context.Background(), []byte(lines)); err != nil {
		t.Fatal(err)
	}
	if got := (*reqs)[0]; got.Query != "db=db&p=p%26q&precision=ns&u=u" || got.Auth != "" {
		t.Errorf("got %+v", got)
	}
}

func TestV2Request(t *testing.T) {
	srv, reqs := recorder(t, []int{204}, "")
	w, _ := NewV2(srv.Client(), V2Options{BaseURL: srv.URL, Org: "my org", Bucket: "telegraf/autogen", Token: "tok"})
	if err := w.Write(context.Background(), []byte(lines)); err != nil {
		t.Fatal(err)
	}
	want := []seen{{"POST", "/api/v2/write", "bucket=telegraf%2Fautogen&org=my+org&precision=ns", "Token tok", "text/plain; charset=utf-8", lines}}
	if !reflect.DeepEqual(*reqs, want) {
		t.Errorf("got  %+v\nwant %+v", *reqs, want)
	}
}

func TestStatusError(t *testing.T) {
	srv, _ := recorder(t, []int{404}, "{\"error\":\"database not found: \\\"nope\\\"\"}\n")
	w, _ := NewV1(srv.Client(), V1Options{BaseURL: srv.URL, Database: "nope", Username: "u", Password: "secret", QueryAuth: true})
	err := w.Write(context.Background(), []byte(lines))
	want := srv.URL + `/write answered 404 Not Found: {"error":"database not found: \"nope\""}`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	var se *StatusError
	if !errors.As(err, &se) || se.Retryable() || se.Rejected() || Retryable(err) {
		t.Errorf("404: %#v", err)
	}
}

func TestTransportErrorHidesQueryCredentials(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	w, _ := NewV1(nil, V1Options{BaseURL: "http://" + addr, Username: "u", Password: "secret", QueryAuth: true})
	err = w.Write(context.Background(), []byte(lines))
	want := "posting to http://" + addr + "/write: dial tcp " + addr + ": connect: connection refused"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if !Retryable(err) || strings.Contains(err.Error(), "secret") {
		t.Errorf("want retryable, no secret: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	w, _ := NewV2(srv.Client(), V2Options{BaseURL: srv.URL, Timeout: 50 * time.Millisecond})
	err := w.Write(context.Background(), []byte(lines))
	if !errors.Is(err, context.DeadlineExceeded) || !Retryable(err) {
		t.Fatalf("err = %v, want a retryable deadline error", err)
	}
	if want := "posting to " + srv.URL + "/api/v2/write: context deadline exceeded"; err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

type fakeSleep struct{ slept []time.Duration }

func (f *fakeSleep) Sleep(ctx context.Context, d time.Duration) error {
	f.slept = append(f.slept, d)
	return ctx.Err()
}

func TestRetry(t *testing.T) {
	for _, tc := range []struct {
		name    string
		codes   []int
		retries int
		wantN   int
		wantErr string // "" means success; URL prefix elided
		slept   []time.Duration
	}{
		{"ok first", []int{204}, 3, 1, "", nil},
		{"5xx then ok", []int{503, 500, 204}, 3, 3, "", []time.Duration{time.Second, 2 * time.Second}},
		{"5xx exhausts", []int{503}, 3, 4, "4 attempts failed, last: URL/write answered 503 Service Unavailable: busy", []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{"4xx not retried", []int{401}, 3, 1, "URL/write answered 401 Unauthorized: busy", nil},
		{"no retries", []int{500}, 0, 1, "URL/write answered 500 Internal Server Error: busy", nil},
		{"backoff capped", []int{502}, 7, 8, "8 attempts failed, last: URL/write answered 502 Bad Gateway: busy", []time.Duration{1, 2, 4, 8, 16, 30, 30}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, reqs := recorder(t, tc.codes, "busy")
			w, _ := NewV1(srv.Client(), V1Options{BaseURL: srv.URL})
			fs := &fakeSleep{}
			r := &Retry{W: w, Retries: tc.retries, Backoff: time.Second, Sleep: fs.Sleep}
			err := r.Write(context.Background(), []byte(lines))
			got := ""
			if err != nil {
				got = strings.ReplaceAll(err.Error(), srv.URL, "URL")
			}
			if got != tc.wantErr {
				t.Errorf("err = %q, want %q", got, tc.wantErr)
			}
			if len(*reqs) != tc.wantN {
				t.Errorf("%d requests, want %d", len(*reqs), tc.wantN)
			}
			want := tc.slept
			if tc.name == "backoff capped" {
				want = nil
				for _, s := range tc.slept {
					want = append(want, s*time.Second)
				}
			}
			if !reflect.DeepEqual(fs.slept, want) {
				t.Errorf("slept %v, want %v", fs.slept, want)
			}
		})
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	srv, reqs := recorder(t, []int{503}, "")
	w, _ := NewV1(srv.Client(), V1Options{BaseURL: srv.URL})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := &Retry{W: w, Retries: 3, Backoff: time.Second, Sleep: Sleep}
	err := r.Write(ctx, []byte(lines))
	if err == nil || len(*reqs) > 1 {
		t.Fatalf("err %v after %d requests", err, len(*reqs))
	}
}

// TestRedirectIsAFailure: a write answered with a redirect is not followed (Go's client would
// re-send it as a GET, whose 200 would look like a delivery). It fails, not retried, naming the
// status and where the server points, without the query (it may hold credentials).
func TestRedirectIsAFailure(t *testing.T) {
	for _, code := range []int{301, 302, 307, 308} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			var mu sync.Mutex
			var methods []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				methods = append(methods, r.Method+" "+r.URL.Path)
				mu.Unlock()
				if r.URL.Path == "/write" {
					http.Redirect(w, r, "/elsewhere/write?"+r.URL.RawQuery, code)
					return
				}
				w.WriteHeader(http.StatusOK) // what a GET of the new address would answer
			}))
			defer srv.Close()
			w, _ := NewV1(srv.Client(), V1Options{BaseURL: srv.URL, Database: "db", Username: "u", Password: "secret", QueryAuth: true})
			err := w.Write(context.Background(), []byte(lines))
			want := srv.URL + "/write answered " + strconv.Itoa(code) + " " + http.StatusText(code) +
				": redirect to " + srv.URL + "/elsewhere/write (query not shown); a write is never sent on to another address: set url to the address the server answers on"
			if err == nil || err.Error() != want {
				t.Fatalf("err = %v\nwant  %s", err, want)
			}
			if Retryable(err) || strings.Contains(err.Error(), "secret") {
				t.Errorf("a redirect must fail for good, without showing the query: %v", err)
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Rejected() || se.Location != srv.URL+"/elsewhere/write?db=db&p=secret&precision=ns&u=u" {
				t.Errorf("%#v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(methods) != 1 || methods[0] != "POST /write" {
				t.Errorf("requests %q: the redirect was followed", methods)
			}
		})
	}
}
