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

func expiryPoint(seconds int64) point {
	return point{tags: podTags, fields: map[string]any{"expiry": seconds, "days_left": float64(seconds) / 86400, "status": "valid"}}
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
		"days_since_renewal": int64(32), "lifetime_days": 44.99998842592592, "threshold_days": 31.99999228395061, "overdue": true,
	}}
	renewed := point{tags: overdue.tags, fields: map[string]any{
		"days_since_renewal": int64(0), "lifetime_days": 0.0, "threshold_days": 62.0, "overdue": false,
	}}
	if !eval(t, a.Crit, overdue) || eval(t, a.Crit, renewed) {
		t.Errorf("crit %s: want true for overdue, false otherwise", lambdaText(a.Crit))
	}
	if got, want := render(t, a.Message, "missed_renewal", "CRITICAL", overdue),
		"CRITICAL: certificate blog.example.test on host beta was last renewed 32 days ago (threshold 32.0 days: 45-day certificate)"; got != want {
		t.Errorf("message\n got %q\nwant %q", got, want)
	}
	if got, want := render(t, a.Message, "missed_renewal", "OK", renewed),
		"OK: certificate blog.example.test on host beta was last renewed 0 days ago (threshold 62.0 days: lifetime unknown)"; got != want {
		t.Errorf("message\n got %q\nwant %q", got, want)
	}
	if got, want := render(t, a.Id, "missed_renewal", "OK", overdue), "missed_renewal:blog.example.test@beta"; got != want {
		t.Errorf("id %q, want %q", got, want)
	}
	documentedVars(t, s, "every", "topic", "log_file", "id", "message")
}

// expiryAlert checks the warn/crit thresholds and messages shared by both expiry tasks.
func expiryAlert(t *testing.T, s script, a *pipeline.AlertNode) {
	t.Helper()
	checkHandlers(t, s, a)
	const day = int64(86400)
	for _, c := range []struct {
		expiry     int64
		warn, crit bool
	}{
		{60 * day, false, false},
		{21 * day, false, false}, // exactly warn_days left: not yet
		{21*day - 1, true, false},
		{7 * day, true, false},
		{7*day - 1, true, true},
		{0, true, true},
		{-2 * day, true, true}, // expired
	} {
		p := expiryPoint(c.expiry)
		if got := eval(t, a.Warn, p); got != c.warn {
			t.Errorf("%s: warn %s at expiry %d = %t, want %t", s.path, lambdaText(a.Warn), c.expiry, got, c.warn)
		}
		if got := eval(t, a.Crit, p); got != c.crit {
			t.Errorf("%s: crit %s at expiry %d = %t, want %t", s.path, lambdaText(a.Crit), c.expiry, got, c.crit)
		}
	}
	if got, want := render(t, a.Message, "cert_expiry", "WARNING", expiryPoint(20*day)),
		"WARNING: certificate for shop.example.test served by pod shop/web-2 (127.0.0.4:443) expires in 20.0 days"; got != want {
		t.Errorf("%s: message\n got %q\nwant %q", s.path, got, want)
	}
	static := point{tags: staticTags, fields: map[string]any{"expiry": -2 * day, "days_left": -2.0}}
	if got, want := render(t, a.Message, "cert_expiry", "CRITICAL", static),
		"CRITICAL: certificate for old.example.test served by 127.0.0.10:8443 expires in -2.0 days"; got != want {
		t.Errorf("%s: message\n got %q\nwant %q", s.path, got, want)
	}
	if got, want := render(t, a.Id, "cert_expiry", "OK", expiryPoint(0)), "cert_expiry:shop/web-2/127.0.0.4:443/shop.example.test"; got != want {
		t.Errorf("%s: id %q, want %q", s.path, got, want)
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
	documentedVars(t, s, "warn_days", "crit_days", "every", "topic", "log_file", "id", "message")
}

var probeGroup = []any{"source", "namespace", "pod", "address", "port", "domain"}

func TestInfluxQLCertExpiryTick(t *testing.T) {
	s := load(t, "influxql/cert_expiry.tick")
	q := one[*pipeline.QueryNode](t, s)
	if !strings.Contains(q.QueryStr, `SELECT last("expiry") AS "expiry", "status"`) || !strings.Contains(q.QueryStr, `FROM "telegraf"."autogen"."cert_expiry"`) {
		t.Errorf("query %q", q.QueryStr)
	}
	if q.Period != 5*time.Minute || q.Every != time.Minute {
		t.Errorf("period %s every %s, want 5m 1m", q.Period, q.Every)
	}
	if !reflect.DeepEqual(q.Dimensions, probeGroup) {
		t.Errorf("groupBy %v, want %v", q.Dimensions, probeGroup)
	}
	ev := one[*pipeline.EvalNode](t, s)
	if !slices.Equal(ev.AsList, []string{"days_left"}) || !ev.KeepFlag {
		t.Errorf("eval as %v keep %t: want days_left, keep", ev.AsList, ev.KeepFlag)
	}
	expiryAlert(t, s, one[*pipeline.AlertNode](t, s))
	documentedVars(t, s, "warn_days", "crit_days", "period", "every", "topic", "log_file", "id", "message")
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
	documentedVars(t, s, "period", "every", "topic", "log_file", "id", "message")
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
	documentedVars(t, s, "period", "every", "interval", "topic", "log_file", "id", "message")
}
