package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository root, from tools/gen-dashboards-and-tasks.
const root = "../.."

// The committed dashboards and TICKscript queries must be what the generator makes from the
// .flux files: a query edited in one place only is a test failure.
func TestGeneratedFilesAreUpToDate(t *testing.T) {
	out, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	diff, err := stale(root, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(diff) > 0 {
		t.Fatalf("out of date, run `make dashboards` and commit: %v", diff)
	}
}

// The drift check must notice a changed query: run it on a copy of the tree with one query
// edited.
func TestDriftIsDetected(t *testing.T) {
	tmp := t.TempDir()
	out, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	copyFile := func(rel string, b []byte) {
		t.Helper()
		p := filepath.Join(tmp, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for rel, b := range out {
		copyFile(rel, b)
	}
	srcs := []string{}
	for _, c := range cells {
		srcs = append(srcs, c.File)
	}
	for _, tq := range tickQueries {
		srcs = append(srcs, tq.File)
	}
	for _, rel := range srcs {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		copyFile(rel, b)
	}
	if err := run(tmp, true); err != nil {
		t.Fatalf("fresh copy: %v", err)
	}
	q, _ := os.ReadFile(filepath.Join(tmp, "flux/alerts/cert_status.flux"))
	copyFile("flux/alerts/cert_status.flux", []byte(strings.Replace(string(q), "start = -5m", "start = -15m", 1)))
	err = run(tmp, true)
	if err == nil || !strings.Contains(err.Error(), "kapacitor/cert_status.tick") {
		t.Fatalf("edited query: error %v, want kapacitor/cert_status.tick reported out of date", err)
	}
	if err := run(tmp, false); err != nil {
		t.Fatal(err)
	}
	tick, _ := os.ReadFile(filepath.Join(tmp, "kapacitor/cert_status.tick"))
	if !strings.Contains(string(tick), "\nstart = -15m\n") {
		t.Errorf("regenerated TICKscript lacks the edited parameter")
	}
}

// Every query file feeds a dashboard cell or a TICKscript (flux/alerts).
func TestEveryQueryIsUsed(t *testing.T) {
	used := map[string]bool{}
	for _, c := range cells {
		used[c.File] = true
	}
	for _, tq := range tickQueries {
		used[tq.File] = true
	}
	files, _ := filepath.Glob(filepath.Join(root, "flux", "*.flux"))
	alerts, _ := filepath.Glob(filepath.Join(root, "flux", "alerts", "*.flux"))
	for _, f := range append(files, alerts...) {
		rel, _ := filepath.Rel(root, f)
		if !used[filepath.ToSlash(rel)] {
			t.Errorf("%s is in no dashboard and no TICKscript", rel)
		}
	}
	if len(files) != 7 {
		t.Errorf("flux/*.flux: %d files, want 7 queries", len(files))
	}
}

func TestSetParams(t *testing.T) {
	q := "// bucket = \"in a comment\"\nbucket = \"telegraf/autogen\"\nstart = -5m\n\nfrom(bucket: bucket)\n"
	got, err := setParams("x.flux", q, map[string]string{"bucket": "v.bucket", "start": "v.timeRangeStart"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "// bucket = \"in a comment\"\nbucket = v.bucket\nstart = v.timeRangeStart\n\nfrom(bucket: bucket)\n"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	_, err = setParams("flux/x.flux", q, map[string]string{"stop": "v.timeRangeStop"})
	if !errors.Is(err, ErrParam) || err.Error() != `flux/x.flux: query parameter "stop": want one assignment line, found 0` {
		t.Errorf("missing parameter: error %v", err)
	}
}

func TestStripHeader(t *testing.T) {
	got := stripHeader("flux/x.flux", "// What it answers.\n//\n// Parameters: …\n\nbucket = \"b\"\n// a comment in the body stays\nfrom(bucket: bucket)\n")
	want := "// Generated from flux/x.flux by `make dashboards`: edit that file, not this query.\nbucket = \"b\"\n// a comment in the body stays\nfrom(bucket: bucket)\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestEmbed(t *testing.T) {
	tick := "var x = 1\nbatch\n    |queryFlux('''\nold\n''')\n        .every(1m)\n"
	got, err := embed("k.tick", tick, "new")
	if err != nil {
		t.Fatal(err)
	}
	if want := "var x = 1\nbatch\n    |queryFlux('''\nnew\n''')\n        .every(1m)\n"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if _, err := embed("k.tick", tick, "a ''' b"); err == nil || !strings.Contains(err.Error(), "would end the TICKscript string") {
		t.Errorf("triple quote in query: error %v", err)
	}
	if _, err := embed("k.tick", "batch|query('x')", "q"); err == nil || err.Error() != "k.tick: want exactly one queryFlux('''…'''), found 0" {
		t.Errorf("no queryFlux: error %v", err)
	}
}
