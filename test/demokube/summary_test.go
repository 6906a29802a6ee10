package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/metric"
)

func certRow(ns, pod, status string, fields map[string]any) telegraf.Metric {
	return metric.New("cert_expiry", map[string]string{
		"source": "kubernetes", "namespace": ns, "pod": pod, "domain": "shop.example.test", "status": status,
	}, fields, time.Unix(1795334650, 0))
}

func TestFindBadNamesEachBadReplicaOnce(t *testing.T) {
	const now = 1795334650
	valid := func(notAfter int64, serial string) map[string]any {
		return map[string]any{"status_code": int64(0), "not_after": notAfter, "expiry": notAfter - now, "verified": true, "verification_error": "", "serial": serial}
	}
	renewed, previous := int64(now+89*86400), int64(now+29*86400)
	rows := []telegraf.Metric{
		certRow("us", "web-a", "valid", valid(renewed, "aa")),
		certRow("us", "web-b", "valid", valid(previous, "bb")),
		certRow("us", "web-c", "valid", valid(renewed, "aa")),
		// Another namespace has its own certificate: an earlier one there is not stale.
		certRow("eu", "web-d", "valid", valid(previous, "cc")),
		certRow("eu", "web-e", "expired", map[string]any{"status_code": int64(1), "not_after": int64(now - 2*86400), "expiry": int64(-2 * 86400), "verified": false, "verification_error": "x509: certificate has expired"}),
		certRow("eu", "web-f", "unreachable", map[string]any{"status_code": int64(4), "error": "dial 127.0.0.9:443: connection refused"}),
		certRow("eu", "web-g", "valid", map[string]any{"status_code": int64(0), "not_after": previous, "expiry": previous - now, "verified": false, "verification_error": "x509: certificate signed by unknown authority"}),
	}
	want := []finding{
		{"eu/web-e", "serves an expired certificate for shop.example.test (expired 2.0 days ago, not after 2026-11-20)"},
		{"eu/web-f", "status unreachable for shop.example.test: dial 127.0.0.9:443: connection refused"},
		{"eu/web-g", "certificate for shop.example.test does not verify: x509: certificate signed by unknown authority"},
		{"us/web-b", "still serves the previous certificate for shop.example.test (not after 2026-12-21, 29.0 days left, serial bb) after a renewal: its siblings serve one valid until 2027-02-19"},
	}
	if got := findBad(rows); !reflect.DeepEqual(got, want) {
		t.Fatalf("findBad\n got %q\nwant %q", got, want)
	}
}
