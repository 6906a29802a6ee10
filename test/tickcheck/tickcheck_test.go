// Package tickcheck checks every TICKscript in kapacitor/ with Kapacitor's own packages
// (v1.7.x, the first line with queryFlux): tick/ast parses it, pipeline.CreatePipeline builds
// the task's pipeline exactly as kapacitord does when a task is defined, and the alert
// lambdas and message templates are evaluated on sample points and on InfluxDB 1.8.3's real
// answers to the queryFlux queries (testdata/, see fluxresults_test.go). It is a module of its
// own so that Kapacitor's dependencies stay out of the project's go.mod.
//
// Run: cd test/tickcheck && go test ./...   (make test-alerting does this)
package tickcheck

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/influxdata/kapacitor/pipeline"
	"github.com/influxdata/kapacitor/tick"
	"github.com/influxdata/kapacitor/tick/ast"
	"github.com/influxdata/kapacitor/tick/stateful"
)

// kapacitorDir is the repository's kapacitor/ directory, from test/tickcheck.
const kapacitorDir = "../../kapacitor"

// deadman is the [deadman] configuration section kapacitord passes to the pipeline builder
// (its defaults).
type deadman struct{}

func (deadman) Interval() time.Duration { return 10 * time.Second }
func (deadman) Threshold() float64      { return 0 }
func (deadman) Id() string              { return "" }
func (deadman) Message() string         { return "" }
func (deadman) Global() bool            { return false }

// script is a parsed and built TICKscript.
type script struct {
	path string
	text string
	p    *pipeline.Pipeline
}

// load parses and builds one TICKscript as a batch task, the way `kapacitor define -type
// batch` does, and fails with Kapacitor's own error message.
func load(t *testing.T, rel string) script {
	t.Helper()
	return loadVars(t, rel, nil)
}

// loadVars is load with variables set, as `kapacitor define -vars FILE` sets them.
func loadVars(t *testing.T, rel string, vars map[string]tick.Var) script {
	t.Helper()
	path := filepath.Join(kapacitorDir, rel)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ast.Parse(string(b)); err != nil {
		t.Fatalf("%s: parse: %v", rel, err)
	}
	p, err := pipeline.CreatePipeline(string(b), pipeline.BatchEdge, stateful.NewScope(), deadman{}, vars)
	if err != nil {
		t.Fatalf("%s: pipeline: %v", rel, err)
	}
	return script{path: rel, text: string(b), p: p}
}

// nodes returns the pipeline's nodes of type T, in order.
func nodes[T pipeline.Node](s script) []T {
	var out []T
	_ = s.p.Walk(func(n pipeline.Node) error {
		if v, ok := n.(T); ok {
			out = append(out, v)
		}
		return nil
	})
	return out
}

func one[T pipeline.Node](t *testing.T, s script) T {
	t.Helper()
	ns := nodes[T](s)
	if len(ns) != 1 {
		var zero T
		t.Fatalf("%s: want one %T, found %d", s.path, zero, len(ns))
	}
	return ns[0]
}

// point is what an alert node sees: tags and fields of one row.
type point struct {
	tags   map[string]string
	fields map[string]any
}

// eval evaluates an alert lambda on a point as Kapacitor does: every reference ("field" or
// "tag") is looked up in the point.
func eval(t *testing.T, l *ast.LambdaNode, p point) bool {
	t.Helper()
	if l == nil {
		t.Fatal("lambda is not set")
	}
	expr, err := stateful.NewExpression(l.Expression)
	if err != nil {
		t.Fatalf("lambda %s: %v", lambdaText(l), err)
	}
	scope := stateful.NewScope()
	for _, name := range ast.FindReferenceVariables(l.Expression) {
		if v, ok := p.fields[name]; ok {
			scope.Set(name, v)
		} else if v, ok := p.tags[name]; ok {
			scope.Set(name, v)
		} else {
			t.Fatalf("lambda %s: the point has no %q", lambdaText(l), name)
		}
	}
	ok, err := expr.EvalBool(scope)
	if err != nil {
		t.Fatalf("lambda %s on %v: %v", lambdaText(l), p, err)
	}
	return ok
}

// lambdaText prints a lambda as TICKscript, for messages.
func lambdaText(l *ast.LambdaNode) string {
	if l == nil {
		return "<none>"
	}
	var b bytes.Buffer
	l.Format(&b, "", false)
	return b.String()
}

// alertData mirrors the fields Kapacitor's message and id templates can use.
type alertData struct {
	ID       string
	Name     string
	TaskName string
	Group    string
	Tags     map[string]string
	Level    string
	Fields   map[string]any
	Time     time.Time
}

// render executes an id or message template on a point, as the alert node does.
func render(t *testing.T, tmpl string, task, level string, p point) string {
	t.Helper()
	tt, err := template.New("alert").Parse(tmpl)
	if err != nil {
		t.Fatalf("template %q: %v", tmpl, err)
	}
	var buf bytes.Buffer
	if err := tt.Execute(&buf, alertData{TaskName: task, Level: level, Tags: p.tags, Fields: p.fields}); err != nil {
		t.Fatalf("template %q: %v", tmpl, err)
	}
	return buf.String()
}

// logFiles returns the paths of the alert's .log() handlers.
func logFiles(a *pipeline.AlertNode) []string {
	var out []string
	for _, h := range a.LogHandlers {
		out = append(out, h.FilePath)
	}
	return out
}

// documentedVars checks that every variable the script declares is described in its header
// and in kapacitor/README.md, so that the docs cannot drift from the scripts.
func documentedVars(t *testing.T, s script, want ...string) {
	t.Helper()
	tp, err := pipeline.CreateTemplatePipeline(s.text, pipeline.BatchEdge, stateful.NewScope(), deadman{})
	if err != nil {
		t.Fatalf("%s: template pipeline: %v", s.path, err)
	}
	var got []string
	for name := range tp.Vars() {
		got = append(got, name)
	}
	sort.Strings(got)
	w := slices.Clone(want)
	sort.Strings(w)
	if !slices.Equal(got, w) {
		t.Errorf("%s: variables %v, want %v", s.path, got, w)
	}
	readme, err := os.ReadFile(filepath.Join(kapacitorDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	header := s.text[:strings.Index(s.text, "\nvar ")]
	for _, name := range got {
		if name == "id" || name == "message" {
			continue // templates, shown in the file itself
		}
		if !regexp.MustCompile(`(?m)^//\s+` + name + `\s`).MatchString(header) {
			t.Errorf("%s: variable %s is not described in the header comment", s.path, name)
		}
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("%s: variable %s is not described in kapacitor/README.md", s.path, name)
		}
	}
}

// TestEveryScriptHasATest fails when a .tick file is added without a test of its own below.
func TestEveryScriptHasATest(t *testing.T) {
	tested := map[string]bool{
		"missed_renewal.tick":        true,
		"cert_expiry.tick":           true,
		"cert_status.tick":           true,
		"cert_deadman.tick":          true,
		"stale_certificate.tick":     true,
		"influxql/cert_expiry.tick":  true,
		"influxql/cert_status.tick":  true,
		"influxql/cert_deadman.tick": true,
	}
	// Set apart so that the literal above keeps its alignment when scripts are added.
	tested["influxql/missed_renewal.tick"] = true
	var found []string
	err := filepath.Walk(kapacitorDir, func(path string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(path, ".tick") {
			rel, _ := filepath.Rel(kapacitorDir, path)
			found = append(found, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		if !tested[f] {
			t.Errorf("kapacitor/%s has no test in test/tickcheck", f)
		}
	}
	if len(found) != len(tested) {
		t.Errorf("found %d .tick files %v, tests cover %d", len(found), found, len(tested))
	}
}

// The pipeline builder is strict: a misspelt property is an error, which is what makes these
// tests worth having. Prove it on a copy of a real script.
func TestPipelineBuilderRejectsMistakes(t *testing.T) {
	good := load(t, "missed_renewal.tick").text
	for _, c := range []struct{ from, to, want string }{
		{".stateChangesOnly()", ".stateChangeOnly()", "no method or property \"stateChangeOnly\""},
		{".every(every)", ".groupBy('host')", "no property method \"groupBy\" on *pipeline.QueryFluxNode"},
		{"|alert()", "|alert(", "parser"},
	} {
		bad := strings.Replace(good, c.from, c.to, 1)
		_, err := pipeline.CreatePipeline(bad, pipeline.BatchEdge, stateful.NewScope(), deadman{}, nil)
		if err == nil {
			t.Errorf("%s → %s: accepted", c.from, c.to)
			continue
		}
		if c.want != "parser" && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s → %s: error %q, want it to contain %q", c.from, c.to, err, c.want)
		}
	}
}
