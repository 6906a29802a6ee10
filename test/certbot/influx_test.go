package certbot

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// influxQuery runs an InfluxQL statement and returns the first series' columns and rows.
func influxQuery(t *testing.T, base, db, user, pass, q string) ([]string, [][]any) {
	t.Helper()
	v := url.Values{"q": {q}, "epoch": {"ns"}}
	if db != "" {
		v.Set("db", db)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/query", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s: %s", q, resp.Status, body)
	}
	var r struct {
		Results []struct {
			Error  string `json:"error"`
			Series []struct {
				Columns []string `json:"columns"`
				Values  [][]any  `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("%s: %v: %s", q, err, body)
	}
	if len(r.Results) == 0 {
		t.Fatalf("%s: no results: %s", q, body)
	}
	if r.Results[0].Error != "" {
		t.Fatalf("%s: %s", q, r.Results[0].Error)
	}
	if len(r.Results[0].Series) == 0 {
		return nil, nil
	}
	s := r.Results[0].Series[0]
	return s.Columns, s.Values
}

// influxPoints reads every certbot_renewal point back, normalized like normalize() does:
// field types come from SHOW FIELD KEYS, so a float stored where an integer belongs shows.
func influxPoints(t *testing.T, base, db, user, pass string) []string {
	t.Helper()
	_, keys := influxQuery(t, base, db, user, pass, "SHOW FIELD KEYS FROM certbot_renewal")
	types := map[string]string{}
	for _, k := range keys {
		types[k[0].(string)] = k[1].(string)
	}
	cols, rows := influxQuery(t, base, db, user, pass, "SELECT * FROM certbot_renewal")
	var out []string
	for _, row := range rows {
		var tags, fields []string
		for i, c := range cols[1:] {
			v := row[i+1]
			if v == nil {
				continue
			}
			switch typ, isField := types[c]; {
			case !isField:
				tags = append(tags, c+"="+fmt.Sprint(v))
			case typ == "integer":
				fields = append(fields, c+"="+fmt.Sprint(v)+"i")
			case typ == "string":
				fields = append(fields, c+"="+strconv.Quote(fmt.Sprint(v)))
			default:
				fields = append(fields, c+"="+fmt.Sprint(v))
			}
		}
		sort.Strings(tags)
		sort.Strings(fields)
		out = append(out, fmt.Sprintf("certbot_renewal %s | %s | %s", strings.Join(tags, " "), strings.Join(fields, " "), row[0]))
	}
	sort.Strings(out)
	return out
}
