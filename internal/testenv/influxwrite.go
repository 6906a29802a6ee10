package testenv

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
)

// CreateDatabase runs CREATE DATABASE on the server.
func (db *InfluxDB) CreateDatabase(t testing.TB, name string) {
	t.Helper()
	resp, err := http.PostForm(db.URL+"/query", url.Values{"q": {"CREATE DATABASE " + name}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CREATE DATABASE %s: %s", name, resp.Status)
	}
}

// WriteRows writes rows a plugin emitted to database as Telegraf would, each stamped at ts
// (a test places them in time: "first reported two hours ago").
func (db *InfluxDB) WriteRows(t testing.TB, database string, rows []metrictest.Row, ts time.Time) {
	t.Helper()
	var enc lineprotocol.Encoder
	for _, r := range rows {
		enc.StartLine(r.Measurement)
		keys := make([]string, 0, len(r.Tags))
		for k := range r.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys) // the encoder wants tags in key order
		for _, k := range keys {
			enc.AddTag(k, r.Tags[k])
		}
		for k, v := range r.Fields {
			lv, ok := lineprotocol.NewValue(v)
			if !ok {
				t.Fatalf("field %s=%v (%T) has no line protocol form", k, v, v)
			}
			enc.AddField(k, lv)
		}
		enc.EndLine(ts)
	}
	if err := enc.Err(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(db.URL+"/write?db="+url.QueryEscape(database), "text/plain", strings.NewReader(string(enc.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write to %s: %s", database, resp.Status)
	}
}
