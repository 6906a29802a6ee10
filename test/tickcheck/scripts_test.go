package tickcheck

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/kapacitor/pipeline"
	"github.com/influxdata/kapacitor/tick"
	"github.com/influxdata/kapacitor/tick/ast"
	"github.com/influxdata/kapacitor/tick/stateful"
)

const (
	defaultTopic   = "certificates"
	defaultLogFile = "/var/log/kapacitor/certificates.log"
)

// fluxFile reads a query file; setting replaces one parameter line ("name = value").
func fluxFile(t *testing.T, rel string, setting ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../..", rel))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(setting); i += 2 {
		name, value := setting[i], setting[i+1]
		lines := strings.Split(s, "\n")
		n := 0
		for j, l := range lines {
			if strings.HasPrefix(l, name+" = ") {
				lines[j] = name + " = " + value
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%s: parameter %s assigned %d times", rel, name, n)
		}
		s = strings.Join(lines, "\n")
	}
	return s
}

// checkHandlers: every task sends state changes only, to the shared topic and log file.
func checkHandlers(t *testing.T, s script, a *pipeline.AlertNode) {
	t.Helper()
	if !a.IsStateChangesOnly {
		t.Errorf("%s: alert does not use .stateChangesOnly(): it would repeat every query", s.path)
	}
	if a.Topic != defaultTopic {
		t.Errorf("%s: topic %q, want %q", s.path, a.Topic, defaultTopic)
	}
	if got := logFiles(a); !slices.Equal(got, []string{defaultLogFile}) {
		t.Errorf("%s: log files %v, want [%s]", s.path, got, defaultLogFile)
	}
}

// expiryPoint is a probe's row as both expiry tasks hand it to the alert node: expiry and
// lifetime in seconds, and the four derived fields (eval in the InfluxQL task, map() in the
// Flux query).
func expiryPoint(tags map[string]string, expiry, lifetime int64) point {
	return point{tags: tags, fields: map[string]any{
		"expiry": expiry, "lifetime": lifetime, "status": "valid",
		"days_left": float64(expiry) / 86400, "hours_left": float64(expiry) / 3600,
		"lifetime_days": float64(lifetime) / 86400, "lifetime_hours": float64(lifetime) / 3600,
	}}
}

const (
	hour = int64(3600)
	day  = 24 * hour
)

// lifetimes are the certificate lifetimes the alerts must be right for, with the first whole
// hour after notBefore at which each alert holds: missed renewal and expiry WARNING with L/4
// left (L/3 under 10 days), expiry CRITICAL with L/6 left. Let's Encrypt's certificates are
// one second shorter than nominal; they alert in the same hour.
var lifetimes = []struct {
	name               string
	lifetime           int64
	warnHour, critHour int64
}{
	{"160h", 160 * hour, 107, 134}, // 106h40m, 133h20m
	{"45d", 45 * day, 810, 900},    // 33d18h, 37d12h
	{"64d", 64 * day, 1152, 1280},  // 48d, 53d8h
	{"90d", 90 * day, 1620, 1800},  // 67d12h, 75d
	{"200d", 200 * day, 3600, 4000},
}

// healthy are renewal cadences that must never alert: the certificate's age runs from 0 to
// the renewal, plus 12 hours of certbot's timer.
var healthy = []struct {
	name              string
	lifetime, renewAt int64
}{
	{"160h renewed every 80h", 160 * hour, 80 * hour},
	{"90d renewed at day 60", 90 * day, 60 * day},
	{"45d renewed at day 30", 45 * day, 30 * day},
	{"200d renewed at day 133", 200 * day, 133*day + 8*hour},
}

var podTags = map[string]string{"source": "kubernetes", "namespace": "shop", "pod": "web-2", "address": "127.0.0.4", "port": "443", "domain": "shop.example.test"}
var staticTags = map[string]string{"source": "static", "address": "127.0.0.10", "port": "8443", "domain": "old.example.test"}

func TestMissedRenewalTick(t *testing.T) {
	s := load(t, "missed_renewal.tick")
	qf := one[*pipeline.QueryFluxNode](t, s)
	if want := fluxFile(t, "flux/overdue_renewals.flux", "onlyOverdue", "false"); qf.QueryStr != "\n"+want {
		t.Errorf("queryFlux is not flux/overdue_renewals.flux with onlyOverdue = false: run make dashboards")
	}
	if qf.Every != 15*time.Minute {
		t.Errorf("every %s, want 15m", qf.Every)
	}
	a := one[*pipeline.AlertNode](t, s)
	checkHandlers(t, s, a)
	if a.Warn != nil || a.Info != nil {
		t.Errorf("only crit is expected")
	}
	overdue := point{tags: map[string]string{"domain": "blog.example.test", "host": "beta"}, fields: map[string]any{
		"overdue": true, "hours_since_renewal": 811.5, "hours_left": 269.5, "lifetime_hours": 1080.0, "alert_after_hours": 809.0,
		"since_renewal": "33d 19h", "left": "11d 5h", "alert_after": "33d 17h", "lifetime": "45d",
	}}
	renewed := point{tags: overdue.tags, fields: map[string]any{
		"overdue": false, "hours_since_renewal": 2.0, "hours_left": 0.0, "lifetime_hours": 0.0, "alert_after_hours": 1488.0,
		"since_renewal": "0d 2h", "left": "unknown", "alert_after": "62d 0h", "lifetime": "unknown",
	}}
	short := point{tags: map[string]string{"domain": "api.example.test", "host": "alpha"}, fields: map[string]any{
		"overdue": true, "hours_since_renewal": 108.2, "hours_left": 50.8, "lifetime_hours": 160.0, "alert_after_hours": 105.66,
		"since_renewal": "108h", "left": "50h", "alert_after": "105h", "lifetime": "160h",
	}}
	if !eval(t, a.Crit, overdue) || !eval(t, a.Crit, short) || eval(t, a.Crit, renewed) {
		t.Errorf("crit %s: want true for overdue, false otherwise", lambdaText(a.Crit))
	}
	for _, c := range []struct {
		level string
		p     point
		want  string
	}{
		{"CRITICAL", overdue, "CRITICAL: certificate blog.example.test on host beta was last renewed 33d 19h ago and expires in 11d 5h (45d certificate: overdue 33d 17h after this renewal)"},
		{"CRITICAL", short, "CRITICAL: certificate api.example.test on host alpha was last renewed 108h ago and expires in 50h (160h certificate: overdue 105h after this renewal)"},
		{"OK", renewed, "OK: certificate blog.example.test on host beta was last renewed 0d 2h ago (lifetime unknown: overdue 62d 0h after a renewal)"},
	} {
		if got := render(t, a.Message, "missed_renewal", c.level, c.p); got != c.want {
			t.Errorf("message\n got %q\nwant %q", got, c.want)
		}
	}
	if got, want := render(t, a.Id, "missed_renewal", "OK", overdue), "missed_renewal:blog.example.test@beta"; got != want {
		t.Errorf("id %q, want %q", got, want)
	}
	documentedVars(t, s, "every", "topic", "log_file", "id", "message")
}

// expiryAlert checks the rule and messages shared by both expiry tasks: relative to the
// lifetime by default, fixed days when warn_days / crit_days are set.
func expiryAlert(t *testing.T, s script, a *pipeline.AlertNode) {
	t.Helper()
	checkHandlers(t, s, a)
	level := func(p point) string {
		switch {
		case eval(t, a.Crit, p):
			return "CRITICAL"
		case eval(t, a.Warn, p):
			return "WARNING"
		}
		return "OK"
	}
	// The first hour of each level, for every lifetime (and one second shorter).
	for _, c := range lifetimes {
		for _, l := range []int64{c.lifetime, c.lifetime - 1} {
			for _, step := range []struct {
				hour int64
				want string
			}{
				{0, "OK"}, {c.warnHour - 1, "OK"}, {c.warnHour, "WARNING"},
				{c.critHour - 1, "WARNING"}, {c.critHour, "CRITICAL"},
				{l / hour, "CRITICAL"}, {l/hour + 48, "CRITICAL"}, // expired
			} {
				p := expiryPoint(podTags, l-step.hour*hour, l)
				if got := level(p); got != step.want {
					t.Errorf("%s: lifetime %s (%d s), hour %d after notBefore: %s, want %s", s.path, c.name, l, step.hour, got, step.want)
				}
				// kapacitord 1.5.9 hands an InfluxQL answer's lifetime over as a float.
				p.fields["lifetime"] = float64(l)
				if got := level(p); got != step.want {
					t.Errorf("%s: float lifetime %s (%d s), hour %d after notBefore: %s, want %s", s.path, c.name, l, step.hour, got, step.want)
				}
			}
		}
	}
	// A healthy cadence never alerts, at any hour of the certificate's life before renewal.
	for _, c := range healthy {
		for age := int64(0); age <= c.renewAt+12*hour; age += hour {
			if got := level(expiryPoint(podTags, c.lifetime-age, c.lifetime)); got != "OK" {
				t.Errorf("%s: %s: %s at hour %d", s.path, c.name, got, age/hour)
				break
			}
		}
	}
	for _, c := range []struct {
		level string
		p     point
		want  string
	}{
		{"WARNING", expiryPoint(podTags, 20*day, 90*day), "WARNING: certificate for shop.example.test served by pod shop/web-2 (127.0.0.4:443) expires in 20.0 days (lifetime 90 days)"},
		{"WARNING", expiryPoint(podTags, 53*hour, 160*hour-1), "WARNING: certificate for shop.example.test served by pod shop/web-2 (127.0.0.4:443) expires in 53.0 hours (lifetime 160 hours)"},
		{"CRITICAL", expiryPoint(staticTags, -2*day, 45*day), "CRITICAL: certificate for old.example.test served by 127.0.0.10:8443 expires in -2.0 days (lifetime 45 days)"},
	} {
		if got := render(t, a.Message, "cert_expiry", c.level, c.p); got != c.want {
			t.Errorf("%s: message\n got %q\nwant %q", s.path, got, c.want)
		}
	}
	if got, want := render(t, a.Id, "cert_expiry", "OK", expiryPoint(podTags, 0, 90*day)), "cert_expiry:shop/web-2/127.0.0.4:443/shop.example.test"; got != want {
		t.Errorf("%s: id %q, want %q", s.path, got, want)
	}
}

// fixedThresholds: with warn_days and crit_days set, both expiry tasks alert on fixed days,
// whatever the lifetime; each variable applies on its own.
func fixedThresholds(t *testing.T, rel string) {
	t.Helper()
	intVar := func(v int64) tick.Var { return tick.Var{Type: ast.TInt, Value: v} }
	for _, c := range []struct {
		vars   map[string]tick.Var
		expiry int64
		warn   bool
		crit   bool
	}{
		{map[string]tick.Var{"warn_days": intVar(21), "crit_days": intVar(7)}, 60 * day, false, false},
		{map[string]tick.Var{"warn_days": intVar(21), "crit_days": intVar(7)}, 21 * day, false, false}, // exactly warn_days left: not yet
		{map[string]tick.Var{"warn_days": intVar(21), "crit_days": intVar(7)}, 21*day - 1, true, false},
		{map[string]tick.Var{"warn_days": intVar(21), "crit_days": intVar(7)}, 7 * day, true, false},
		{map[string]tick.Var{"warn_days": intVar(21), "crit_days": intVar(7)}, 7*day - 1, true, true},
		{map[string]tick.Var{"warn_days": intVar(21), "crit_days": intVar(7)}, -2 * day, true, true}, // expired
		// crit_days only: WARNING stays relative (90 days: 22.5 days left).
		{map[string]tick.Var{"crit_days": intVar(3)}, 22*day + 12*hour, true, false},
		{map[string]tick.Var{"crit_days": intVar(3)}, 4 * day, true, false},
		{map[string]tick.Var{"crit_days": intVar(3)}, 3*day - 1, true, true},
	} {
		s := loadVars(t, rel, c.vars)
		a := one[*pipeline.AlertNode](t, s)
		p := expiryPoint(podTags, c.expiry, 90*day)
		if got := eval(t, a.Warn, p); got != c.warn {
			t.Errorf("%s %v: warn %s at expiry %d = %t, want %t", rel, c.vars, lambdaText(a.Warn), c.expiry, got, c.warn)
		}
		if got := eval(t, a.Crit, p); got != c.crit {
			t.Errorf("%s %v: crit %s at expiry %d = %t, want %t", rel, c.vars, lambdaText(a.Crit), c.expiry, got, c.crit)
		}
	}
}

func TestCertExpiryTick(t *testing.T) {
	s := load(t, "cert_expiry.tick")
	qf := one[*pipeline.QueryFluxNode](t, s)
	if qf.QueryStr != "\n"+fluxFile(t, "flux/alerts/cert_expiry.flux") {
		t.Errorf("queryFlux is not flux/alerts/cert_expiry.flux: run make dashboards")
	}
	if qf.Every != time.Minute {
		t.Errorf("every %s, want 1m", qf.Every)
	}
	expiryAlert(t, s, one[*pipeline.AlertNode](t, s))
	fixedThresholds(t, "cert_expiry.tick")
	documentedVars(t, s, "warn_days", "crit_days", "every", "topic", "log_file", "id", "message")
}

var probeGroup = []any{"source", "namespace", "pod", "address", "port", "domain"}

func TestInfluxQLCertExpiryTick(t *testing.T) {
	s := load(t, "influxql/cert_expiry.tick")
	q := one[*pipeline.QueryNode](t, s)
	if !strings.Contains(q.QueryStr, `SELECT last("expiry") AS "expiry", "lifetime", "status"`) || !strings.Contains(q.QueryStr, `FROM "telegraf"."autogen"."cert_expiry"`) {
		t.Errorf("query %q", q.QueryStr)
	}
	if q.Period != 5*time.Minute || q.Every != time.Minute {
		t.Errorf("period %s every %s, want 5m 1m", q.Period, q.Every)
	}
	if !reflect.DeepEqual(q.Dimensions, probeGroup) {
		t.Errorf("groupBy %v, want %v", q.Dimensions, probeGroup)
	}
	ev := one[*pipeline.EvalNode](t, s)
	if want := []string{"days_left", "hours_left", "lifetime_days", "lifetime_hours"}; !slices.Equal(ev.AsList, want) || !ev.KeepFlag {
		t.Errorf("eval as %v keep %t: want %v, keep", ev.AsList, ev.KeepFlag, want)
	}
	// The eval node computes the fields the message uses, as the Flux query does.
	p := expiryPoint(podTags, 20*day+7, 90*day-1)
	for i, l := range ev.Lambdas {
		expr, err := stateful.NewExpression(l.Expression)
		if err != nil {
			t.Fatal(err)
		}
		scope := stateful.NewScope()
		scope.Set("expiry", p.fields["expiry"])
		scope.Set("lifetime", p.fields["lifetime"])
		got, err := expr.EvalFloat(scope)
		if err != nil || got != p.fields[ev.AsList[i]] {
			t.Errorf("eval %s = %v (%v), want %v", lambdaText(l), got, err, p.fields[ev.AsList[i]])
		}
	}
	expiryAlert(t, s, one[*pipeline.AlertNode](t, s))
	fixedThresholds(t, "influxql/cert_expiry.tick")
	documentedVars(t, s, "db", "rp", "warn_days", "crit_days", "period", "every", "topic", "log_file", "id", "message")
}

// statusAlert checks the crit rule and messages shared by both status tasks.
func statusAlert(t *testing.T, s script, a *pipeline.AlertNode) {
	t.Helper()
	checkHandlers(t, s, a)
	if a.Info != nil {
		t.Errorf("%s: no info level is expected", s.path)
	}
	trusted := point{tags: podTags, fields: map[string]any{"status_code": int64(0), "status": "valid", "verified": true, "verification_error": ""}}
	untrusted := point{tags: staticTags, fields: map[string]any{"status_code": int64(0), "status": "valid", "verified": false, "verification_error": "x509: certificate signed by unknown authority"}}
	if eval(t, a.Warn, trusted) || !eval(t, a.Warn, untrusted) {
		t.Errorf("%s: warn %s: want true only when verified is false", s.path, lambdaText(a.Warn))
	}
	if got, want := render(t, a.Message, "cert_status", "WARNING", untrusted), "WARNING: probe of old.example.test on 127.0.0.10:8443 is valid, but its chain does not verify: x509: certificate signed by unknown authority"; got != want {
		t.Errorf("%s: message\n got %q\nwant %q", s.path, got, want)
	}
	if got, want := render(t, a.Message, "cert_status", "OK", trusted), "OK: probe of shop.example.test on pod shop/web-2 (127.0.0.4:443) is valid"; got != want {
		t.Errorf("%s: message\n got %q\nwant %q", s.path, got, want)
	}
	for code, status := range []string{"valid", "expired", "not_yet_valid", "not_found", "unreachable", "handshake_failed", "timeout"} {
		p := point{tags: podTags, fields: map[string]any{"status_code": int64(code), "status": status}}
		if got := eval(t, a.Crit, p); got != (code != 0) {
			t.Errorf("%s: crit %s for %s = %t", s.path, lambdaText(a.Crit), status, got)
		}
	}
	p := point{tags: podTags, fields: map[string]any{"status_code": int64(3), "status": "not_found"}}
	if got, want := render(t, a.Message, "cert_status", "CRITICAL", p), "CRITICAL: probe of shop.example.test on pod shop/web-2 (127.0.0.4:443) is not_found"; got != want {
		t.Errorf("%s: message\n got %q\nwant %q", s.path, got, want)
	}
	p = point{tags: staticTags, fields: map[string]any{"status_code": int64(4), "status": "unreachable"}}
	if got, want := render(t, a.Message, "cert_status", "CRITICAL", p), "CRITICAL: probe of old.example.test on 127.0.0.10:8443 is unreachable"; got != want {
		t.Errorf("%s: message\n got %q\nwant %q", s.path, got, want)
	}
}

func TestCertStatusTick(t *testing.T) {
	s := load(t, "cert_status.tick")
	qf := one[*pipeline.QueryFluxNode](t, s)
	if qf.QueryStr != "\n"+fluxFile(t, "flux/alerts/cert_status.flux") {
		t.Errorf("queryFlux is not flux/alerts/cert_status.flux: run make dashboards")
	}
	statusAlert(t, s, one[*pipeline.AlertNode](t, s))
	documentedVars(t, s, "every", "topic", "log_file", "id", "message")
}

func TestInfluxQLCertStatusTick(t *testing.T) {
	s := load(t, "influxql/cert_status.tick")
	q := one[*pipeline.QueryNode](t, s)
	if !strings.Contains(q.QueryStr, `SELECT last("status_code") AS "status_code", "status", "verified", "verification_error"`) {
		t.Errorf("query %q", q.QueryStr)
	}
	if !reflect.DeepEqual(q.Dimensions, probeGroup) {
		t.Errorf("groupBy %v, want %v", q.Dimensions, probeGroup)
	}
	statusAlert(t, s, one[*pipeline.AlertNode](t, s))
	documentedVars(t, s, "db", "rp", "period", "every", "topic", "log_file", "id", "message")
}

// deadmanAlert checks the deadman built by |deadman(0.0, interval): a stats node every
// interval, and an alert that is critical when no row arrived in it.
func deadmanAlert(t *testing.T, s script) {
	t.Helper()
	st := one[*pipeline.StatsNode](t, s)
	if st.Interval != 5*time.Minute {
		t.Errorf("%s: deadman interval %s, want 5m", s.path, st.Interval)
	}
	a := one[*pipeline.AlertNode](t, s)
	checkHandlers(t, s, a)
	dead := point{tags: map[string]string{"host": "telegraf-a"}, fields: map[string]any{"emitted": 0.0}}
	alive := point{tags: dead.tags, fields: map[string]any{"emitted": 3.0}}
	if !eval(t, a.Crit, dead) || eval(t, a.Crit, alive) {
		t.Errorf("%s: crit %s: want true for 0 rows, false for 3", s.path, lambdaText(a.Crit))
	}
	if got, want := render(t, a.Message, "cert_deadman", "CRITICAL", dead), "CRITICAL: cert_expiry from host telegraf-a stopped arriving"; got != want {
		t.Errorf("%s: message %q, want %q", s.path, got, want)
	}
	if got, want := render(t, a.Message, "cert_deadman", "OK", alive), "OK: cert_expiry from host telegraf-a is arriving again"; got != want {
		t.Errorf("%s: message %q, want %q", s.path, got, want)
	}
	if got, want := render(t, a.Id, "cert_deadman", "OK", alive), "cert_deadman:telegraf-a"; got != want {
		t.Errorf("%s: id %q, want %q", s.path, got, want)
	}
}

func TestCertDeadmanTick(t *testing.T) {
	s := load(t, "cert_deadman.tick")
	qf := one[*pipeline.QueryFluxNode](t, s)
	if qf.QueryStr != "\n"+fluxFile(t, "flux/alerts/cert_deadman.flux") {
		t.Errorf("queryFlux is not flux/alerts/cert_deadman.flux: run make dashboards")
	}
	deadmanAlert(t, s)
	documentedVars(t, s, "every", "interval", "topic", "log_file", "id", "message")
}

func TestInfluxQLCertDeadmanTick(t *testing.T) {
	s := load(t, "influxql/cert_deadman.tick")
	q := one[*pipeline.QueryNode](t, s)
	if !strings.Contains(q.QueryStr, `SELECT count("status_code") AS "rows"`) {
		t.Errorf("query %q", q.QueryStr)
	}
	if !reflect.DeepEqual(q.Dimensions, []any{"host"}) {
		t.Errorf("groupBy %v, want [host]", q.Dimensions)
	}
	deadmanAlert(t, s)
	documentedVars(t, s, "db", "rp", "period", "every", "interval", "topic", "log_file", "id", "message")
}

// runEvals applies the script's eval nodes, in order, to a point whose "time" is the
// renewal's, as kapacitord does (now() is the wall clock, as there).
func runEvals(t *testing.T, s script, p point, ts time.Time) point {
	t.Helper()
	fields := map[string]any{}
	for k, v := range p.fields {
		fields[k] = v
	}
	for _, ev := range nodes[*pipeline.EvalNode](s) {
		out := map[string]any{}
		for i, l := range ev.Lambdas {
			expr, err := stateful.NewExpression(l.Expression)
			if err != nil {
				t.Fatal(err)
			}
			scope := stateful.NewScope()
			for _, name := range ast.FindReferenceVariables(l.Expression) {
				if name == "time" {
					scope.Set("time", ts)
				} else if v, ok := fields[name]; ok {
					scope.Set(name, v)
				} else {
					t.Fatalf("eval %s: the point has no %q", lambdaText(l), name)
				}
			}
			v, err := expr.Eval(scope)
			if err != nil {
				t.Fatalf("eval %s: %v", lambdaText(l), err)
			}
			out[ev.AsList[i]] = v
		}
		for k, v := range out {
			fields[k] = v
		}
	}
	return point{tags: p.tags, fields: fields}
}

func TestInfluxQLMissedRenewalTick(t *testing.T) {
	s := load(t, "influxql/missed_renewal.tick")
	q := one[*pipeline.QueryNode](t, s)
	if !strings.Contains(q.QueryStr, `SELECT last("renewed_count") AS "renewed_count", "not_after", "lifetime"`) || !strings.Contains(q.QueryStr, `FROM "telegraf"."autogen"."certbot_renewal"`) || !strings.Contains(q.QueryStr, `WHERE "domain" != 'all'`) {
		t.Errorf("query %q", q.QueryStr)
	}
	if q.Period != 250*24*time.Hour || q.Every != 15*time.Minute {
		t.Errorf("period %s every %s, want 250d 15m", q.Period, q.Every)
	}
	if !reflect.DeepEqual(q.Dimensions, []any{"domain", "host"}) {
		t.Errorf("groupBy %v, want [domain host]", q.Dimensions)
	}
	def := one[*pipeline.DefaultNode](t, s)
	if !reflect.DeepEqual(def.Fields, map[string]any{"not_after": int64(0), "lifetime": int64(0)}) {
		t.Errorf("default fields %v", def.Fields)
	}
	a := one[*pipeline.AlertNode](t, s)
	checkHandlers(t, s, a)
	if a.Warn != nil || a.Info != nil {
		t.Errorf("only crit is expected")
	}
	tags := map[string]string{"domain": "blog.example.test", "host": "beta"}
	// renewedAt is the point kapacitord hands over for a renewal reported an hour after the
	// notBefore of a certificate issued age ago (the hook reports lifetime 0 without one).
	renewedAt := func(lifetime int64, age time.Duration, notAfterAsFloat bool) point {
		issued := time.Now().Add(-age).Truncate(time.Second)
		ts := issued.Add(time.Hour)
		var notAfter any = issued.Unix() + lifetime
		var l any = lifetime
		if notAfterAsFloat { // as an InfluxQL answer may carry them
			notAfter, l = float64(issued.Unix()+lifetime), float64(lifetime)
		}
		if lifetime == 0 {
			notAfter = int64(0)
		}
		return runEvals(t, s, point{tags: tags, fields: map[string]any{"renewed_count": 1.0, "not_after": notAfter, "lifetime": l}}, ts)
	}
	for _, c := range lifetimes {
		for _, l := range []int64{c.lifetime, c.lifetime - 1} {
			for _, asFloat := range []bool{false, true} {
				for _, step := range []struct {
					hour int64
					want bool
				}{{0, false}, {c.warnHour - 1, false}, {c.warnHour, true}, {c.critHour, true}, {l/hour + 48, true}} {
					// A minute into the hour: now() moves on while the test runs.
					p := renewedAt(l, time.Duration(step.hour)*time.Hour+time.Minute, asFloat)
					if got := eval(t, a.Crit, p); got != step.want {
						t.Errorf("lifetime %s (%d s, float %t), hour %d after notBefore: crit %t, want %t (%v)", c.name, l, asFloat, step.hour, got, step.want, p.fields)
					}
				}
			}
		}
	}
	for _, c := range healthy {
		for age := int64(0); age <= c.renewAt+12*hour; age += hour {
			if p := renewedAt(c.lifetime, time.Duration(age)*time.Second, false); eval(t, a.Crit, p) {
				t.Errorf("%s: crit at hour %d", c.name, age/hour)
				break
			}
		}
	}
	// Without a lifetime: fallback_days (62) after the renewal.
	for _, c := range []struct {
		age  time.Duration
		want bool
	}{{62*24*time.Hour - time.Minute, false}, {62*24*time.Hour + time.Minute, true}} {
		p := runEvals(t, s, point{tags: tags, fields: map[string]any{"renewed_count": 1.0, "not_after": int64(0), "lifetime": int64(0)}}, time.Now().Add(-c.age))
		if got := eval(t, a.Crit, p); got != c.want {
			t.Errorf("no lifetime, %s after the renewal: crit %t, want %t", c.age, got, c.want)
		}
	}

	msg := func(level string, p point) string { return render(t, a.Message, "missed_renewal", level, p) }
	for _, c := range []struct {
		level string
		p     point
		want  string
	}{
		{"CRITICAL", renewedAt(45*86400-1, 810*time.Hour+time.Minute, false), "CRITICAL: certificate blog.example.test on host beta was last renewed 33.7 days ago and expires in 11.2 days (lifetime 45 days)"},
		{"CRITICAL", renewedAt(160*3600-1, 107*time.Hour+time.Minute, true), "CRITICAL: certificate blog.example.test on host beta was last renewed 106.0 hours ago and expires in 53.0 hours (lifetime 160 hours)"},
		{"OK", runEvals(t, s, point{tags: tags, fields: map[string]any{"renewed_count": 1.0, "not_after": int64(0), "lifetime": int64(0)}}, time.Now().Add(-40*24*time.Hour)), "OK: certificate blog.example.test on host beta was last renewed 40.0 days ago (lifetime unknown: overdue 62 days after a renewal)"},
	} {
		if got := msg(c.level, c.p); got != c.want {
			t.Errorf("message\n got %q\nwant %q", got, c.want)
		}
	}
	if got, want := render(t, a.Id, "missed_renewal", "OK", point{tags: tags}), "missed_renewal:blog.example.test@beta"; got != want {
		t.Errorf("id %q, want %q", got, want)
	}
	documentedVars(t, s, "db", "rp", "period", "fallback_days", "every", "topic", "log_file", "id", "message")
}
