package testenv

import (
	"encoding/csv"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FluxAnswer runs a Flux query on the server's /api/v2/query (influxd 1.8 with Flux) and
// returns the annotated CSV answer; a refused query fails the test with the server's words.
func (db *InfluxDB) FluxAnswer(t testing.TB, query string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, db.URL+"/api/v2/query", strings.NewReader(query))
	req.Header.Set("Content-Type", "application/vnd.flux")
	req.Header.Set("Accept", "application/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("flux query: %s: %s", resp.Status, body)
	}
	return body
}

// FluxRows runs a Flux query and returns its rows, every table in order, as column → value
// (the result and table columns left out).
func (db *InfluxDB) FluxRows(t testing.TB, query string) []map[string]string {
	t.Helper()
	return ParseFluxCSV(t, db.FluxAnswer(t, query))
}

// ParseFluxCSV reads an annotated CSV answer into rows; an error answer fails the test.
func ParseFluxCSV(t testing.TB, body []byte) []map[string]string {
	t.Helper()
	var rows []map[string]string
	for _, block := range strings.Split(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n\n") {
		var header []string
		r := csv.NewReader(strings.NewReader(block))
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("flux answer: %v\n%s", err, body)
		}
		for _, rec := range recs {
			switch {
			case len(rec) == 0 || strings.HasPrefix(rec[0], "#"):
			case rec[0] == "error" || len(rec) > 1 && rec[1] == "error":
				t.Fatalf("flux error: %s", body)
			case header == nil:
				header = rec
			default:
				row := map[string]string{}
				for i, c := range header {
					if i < len(rec) && c != "" && c != "result" && c != "table" {
						row[c] = rec[i]
					}
				}
				rows = append(rows, row)
			}
		}
	}
	return rows
}

// FluxFile reads flux/NAME from the repository with parameters replaced: pairs of a name and
// the value that replaces its one "name = …" line (e.g. "grace", "45s"); a parameter not
// assigned exactly once fails the test.
func FluxFile(t testing.TB, name string, params ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(RepoRoot(t), "flux", name))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i := 0; i+1 < len(params); i += 2 {
		n := 0
		for j, l := range lines {
			if strings.HasPrefix(l, params[i]+" = ") {
				lines[j], n = params[i]+" = "+params[i+1], n+1
			}
		}
		if n != 1 {
			t.Fatalf("%s: parameter %s assigned %d times", name, params[i], n)
		}
	}
	return strings.Join(lines, "\n")
}
