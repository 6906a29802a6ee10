package tickcheck

import (
	"strings"
	"testing"

	"github.com/influxdata/kapacitor/pipeline"
	"github.com/influxdata/kapacitor/tick"
	"github.com/influxdata/kapacitor/tick/ast"
)

// The InfluxQL tasks read the database and retention policy from their db and rp variables
// (default telegraf.autogen), so that another database needs only -vars, not an edited script.
func TestInfluxQLDatabaseIsAVariable(t *testing.T) {
	str := func(v string) tick.Var { return tick.Var{Type: ast.TString, Value: v} }
	for file, measurement := range map[string]string{
		"influxql/cert_expiry.tick":    "cert_expiry",
		"influxql/cert_status.tick":    "cert_expiry",
		"influxql/cert_deadman.tick":   "cert_expiry",
		"influxql/missed_renewal.tick": "certbot_renewal",
	} {
		for _, tc := range []struct {
			vars map[string]tick.Var
			from string
		}{
			{nil, `FROM "telegraf"."autogen"."` + measurement + `"`},
			{map[string]tick.Var{"db": str("metrics"), "rp": str("four_weeks")}, `FROM "metrics"."four_weeks"."` + measurement + `"`},
		} {
			q := one[*pipeline.QueryNode](t, loadVars(t, file, tc.vars))
			if !strings.Contains(q.QueryStr, tc.from) {
				t.Errorf("%s with vars %v: query\n%s\nwant it to read %s", file, tc.vars, q.QueryStr, tc.from)
			}
			if strings.Count(q.QueryStr, "FROM ") != 1 {
				t.Errorf("%s: query %q: want exactly one FROM", file, q.QueryStr)
			}
		}
	}
}
