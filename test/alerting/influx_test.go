// Package alerting runs the repository's alerting and dashboard queries on real engines:
// the InfluxQL TICKscripts (kapacitor/influxql) on kapacitord 1.5.9 against InfluxDB 1.6.7
// and 1.8.3 (kapacitor_test.go), and every Flux query (flux/, and the queryFlux bodies of
// kapacitor/*.tick) on InfluxDB 1.8.3 with Flux enabled (flux_test.go); lifetimes_test.go
// holds the lifetimes from 160 hours to 200 days that both pin the alert rule for.
// Integration tests: they run with CERTEXPIRY_INTEGRATION=1 (make test).
package alerting

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// writeLines writes line protocol (nanosecond timestamps) to db through InfluxDB 1.x /write.
func writeLines(t testing.TB, influxURL, db string, lines []string) {
	t.Helper()
	if err := postLines(influxURL, db, lines); err != nil {
		t.Fatal(err)
	}
}

func postLines(influxURL, db string, lines []string) error {
	u := influxURL + "/write?" + url.Values{"db": {db}, "precision": {"ns"}}.Encode()
	resp, err := http.Post(u, "text/plain", strings.NewReader(strings.Join(lines, "\n")+"\n"))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("write: %s: %s", resp.Status, b)
	}
	return nil
}

// influxQL runs a statement (CREATE DATABASE …) and fails on an error.
func influxQL(t testing.TB, influxURL, q string) {
	t.Helper()
	resp, err := http.PostForm(influxURL+"/query", url.Values{"q": {q}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"error"`)) {
		t.Fatalf("%s: %s: %s", q, resp.Status, b)
	}
}

// fluxRow is one row of a Flux result: column name → value as annotated CSV prints it
// (null is ""), plus "table" (the table index), groupKey (the names of the table's
// group-key columns, comma-separated: what Kapacitor turns into tags) and each column's type.
type fluxRow map[string]string

// groupKey is the fluxRow entry listing the group-key columns.
const groupKey = "#group"

// typePrefix + column is the fluxRow entry holding the column's Flux data type (long,
// double, boolean, string, dateTime:RFC3339, …).
const typePrefix = "#type."

// fluxQuery runs a Flux query on InfluxDB 1.8's /api/v2/query and returns every row of every
// table, in the order the server sent them.
func fluxQuery(t testing.TB, influxURL, query string) []fluxRow {
	t.Helper()
	rows, err := fluxQueryErr(influxURL, query)
	if err != nil {
		t.Fatalf("%v\nquery:\n%s", err, query)
	}
	return rows
}

// fluxCSV runs a Flux query and returns the annotated CSV exactly as the server sent it.
func fluxCSV(t testing.TB, influxURL, query string) []byte {
	t.Helper()
	body, err := fluxBody(influxURL, query)
	if err != nil {
		t.Fatalf("%v\nquery:\n%s", err, query)
	}
	return body
}

func fluxQueryErr(influxURL, query string) ([]fluxRow, error) {
	body, err := fluxBody(influxURL, query)
	if err != nil {
		return nil, err
	}
	return parseAnnotatedCSV(body)
}

func fluxBody(influxURL, query string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, influxURL+"/api/v2/query", strings.NewReader(query))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/vnd.flux")
	req.Header.Set("Accept", "application/csv")
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("flux query: %s: %s", resp.Status, body)
	}
	return body, nil
}

// parseAnnotatedCSV reads Flux's annotated CSV: tables separated by blank lines, each with
// #annotation rows and a header. An "error" table is returned as an error.
func parseAnnotatedCSV(body []byte) ([]fluxRow, error) {
	var rows []fluxRow
	for _, block := range regexp.MustCompile(`\r?\n\r?\n`).Split(strings.TrimSpace(string(body)), -1) {
		if strings.TrimSpace(block) == "" {
			continue
		}
		r := csv.NewReader(strings.NewReader(block))
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		if err != nil {
			return nil, fmt.Errorf("flux CSV: %v\n%s", err, block)
		}
		var header, group, types []string
		for _, rec := range recs {
			if len(rec) > 0 && rec[0] == "#group" {
				group = rec
				continue
			}
			if len(rec) > 0 && rec[0] == "#datatype" {
				types = rec
				continue
			}
			if len(rec) > 0 && strings.HasPrefix(rec[0], "#") {
				continue
			}
			if header == nil {
				header = rec
				if len(rec) > 1 && rec[0] == "error" {
					return nil, fmt.Errorf("flux error: %s", block)
				}
				continue
			}
			if len(header) >= 2 && header[0] == "error" {
				return nil, fmt.Errorf("flux error: %s", rec[0])
			}
			row := fluxRow{}
			var keys []string
			for i, name := range header {
				if name == "" || name == "result" {
					continue
				}
				if i < len(rec) {
					row[name] = rec[i]
				}
				if i < len(group) && group[i] == "true" {
					keys = append(keys, name)
				}
				if i < len(types) {
					row[typePrefix+name] = types[i]
				}
			}
			row[groupKey] = strings.Join(keys, ",")
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// readRepoFile reads a file relative to the repository root.
func readRepoFile(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func repoRoot(t testing.TB) string {
	t.Helper()
	// The test runs in test/alerting.
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found: %v", err)
	}
	return root
}

// setParams replaces the parameter assignments of a query file ("name = value" at the start
// of a line) and fails when one is missing, so a renamed parameter cannot go unnoticed.
func setParams(t testing.TB, query string, params map[string]string) string {
	t.Helper()
	for name, value := range params {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` = .*$`)
		if len(re.FindAllString(query, -1)) != 1 {
			t.Fatalf("parameter %q: want exactly one assignment line in the query", name)
		}
		query = re.ReplaceAllLiteralString(query, name+" = "+value)
	}
	return query
}

// atNow pins Flux's now() to ts, as a user would pin it to replay a past day. The option
// goes after the query's imports, which Flux wants first.
func atNow(query string, ts time.Time) string {
	imports := strings.Join(importLine.FindAllString(query, -1), "")
	return imports + "option now = () => " + ts.UTC().Format(time.RFC3339Nano) + "\n" + importLine.ReplaceAllString(query, "")
}

// queryFluxBodies returns the bodies of every queryFlux(”'…”') in a TICKscript.
func queryFluxBodies(tick string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?s)queryFlux\('''(.*?)'''\)`).FindAllStringSubmatch(tick, -1) {
		out = append(out, m[1])
	}
	return out
}
