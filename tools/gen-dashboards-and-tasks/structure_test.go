package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Structural checks of the generated dashboards, written from the rules the importers
// enforce: InfluxDB 2's template parser (pkger: kinds, sizes, axes, geometry, colors, table
// options, resource names) and Chronograf's dashboard validation (axes, colors, legend, query
// types, cell types). Each check is also run on a broken copy, so it is known to catch what
// it is for.

type obj = map[string]any

func readJSON(t *testing.T, rel string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return v
}

// clone deep-copies a decoded JSON value, so a test can break a copy.
func clone(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// rect is a cell's place on the grid.
type rect struct{ x, y, w, h int }

func overlaps(a, b rect) bool {
	return a.x < b.x+b.w && b.x < a.x+a.w && a.y < b.y+b.h && b.y < a.y+a.h
}

// gridProblems: on the 12-column grid, inside it, no two cells on the same spot.
func gridProblems(names []string, rects []rect) []string {
	var p []string
	for i, r := range rects {
		if r.w <= 0 || r.h <= 0 {
			p = append(p, fmt.Sprintf("%s: width and height must be greater than 0", names[i]))
		}
		if r.x < 0 || r.y < 0 || r.x+r.w > 12 {
			p = append(p, fmt.Sprintf("%s: outside the 12-column grid", names[i]))
		}
		for j := 0; j < i; j++ {
			if overlaps(r, rects[j]) {
				p = append(p, fmt.Sprintf("%s overlaps %s", names[i], names[j]))
			}
		}
	}
	return p
}

// vRefs lists the v.NAME references of a query.
func vRefs(q string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`\bv\.([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(q, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

var resourceName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// influx2Problems checks an InfluxDB 2 template.
func influx2Problems(doc any) []string {
	var p []string
	resources, ok := doc.([]any)
	if !ok || len(resources) == 0 {
		return []string{"template: want a non-empty array of resources"}
	}
	variables := map[string]bool{"timeRangeStart": true, "timeRangeStop": true, "windowPeriod": true}
	var dashboards []obj
	for i, r := range resources {
		res, _ := r.(obj)
		spec, _ := res["spec"].(obj)
		meta, _ := res["metadata"].(obj)
		where := fmt.Sprintf("resource %d", i)
		if res["apiVersion"] != "influxdata.com/v2alpha1" {
			p = append(p, where+": apiVersion must be influxdata.com/v2alpha1")
		}
		if name, _ := meta["name"].(string); !resourceName.MatchString(name) || len(name) > 63 {
			p = append(p, fmt.Sprintf("%s: metadata.name %q is not a valid resource name", where, meta["name"]))
		}
		switch res["kind"] {
		case "Variable":
			name, _ := spec["name"].(string)
			variables[name] = true
			if !slices.Contains([]any{"query", "constant", "map"}, spec["type"]) {
				p = append(p, fmt.Sprintf("%s: variable type %v", where, spec["type"]))
			}
			if spec["type"] == "query" && (spec["language"] != "flux" || spec["query"] == "") {
				p = append(p, where+": a query variable needs language flux and a query")
			}
		case "Dashboard":
			dashboards = append(dashboards, spec)
		default:
			p = append(p, fmt.Sprintf("%s: kind %v", where, res["kind"]))
		}
	}
	if len(dashboards) != 1 {
		p = append(p, fmt.Sprintf("want 1 Dashboard, found %d", len(dashboards)))
	}
	for _, d := range dashboards {
		if d["name"] == "" || d["name"] == nil {
			p = append(p, "dashboard: no name")
		}
		charts, _ := d["charts"].([]any)
		var names []string
		var rects []rect
		for i, c := range charts {
			ch, _ := c.(obj)
			name := fmt.Sprintf("chart %d (%v)", i, ch["name"])
			names = append(names, name)
			rects = append(rects, rect{num(ch["xPos"]), num(ch["yPos"]), num(ch["width"]), num(ch["height"])})
			kind := strings.ToLower(fmt.Sprint(ch["kind"]))
			if !slices.Contains([]string{"gauge", "geo", "heatmap", "histogram", "markdown", "mosaic", "scatter", "single_stat", "single_stat_plus_line", "table", "xy", "band"}, kind) {
				p = append(p, fmt.Sprintf("%s: kind %v", name, ch["kind"]))
			}
			queries, _ := ch["queries"].([]any)
			if len(queries) == 0 {
				p = append(p, name+": no queries")
			}
			for _, q := range queries {
				text, _ := q.(obj)["query"].(string)
				if strings.TrimSpace(text) == "" {
					p = append(p, name+": empty query")
				}
				for _, ref := range vRefs(text) {
					if !variables[ref] {
						p = append(p, fmt.Sprintf("%s: v.%s is neither a built-in nor a Variable of the template", name, ref))
					}
				}
			}
			colors, _ := ch["colors"].([]any)
			for _, c := range colors {
				if hex, _ := c.(obj)["hex"].(string); hex == "" {
					p = append(p, name+": a color must have a hex value")
				}
			}
			axes := map[string]bool{}
			list, _ := ch["axes"].([]any)
			for _, a := range list {
				axes[fmt.Sprint(a.(obj)["name"])] = true
			}
			switch kind {
			case "xy":
				if !slices.Contains([]any{"line", "step", "stacked", "monotoneX", "bar"}, ch["geom"]) {
					p = append(p, fmt.Sprintf("%s: geom %v", name, ch["geom"]))
				}
				if !axes["x"] || !axes["y"] {
					p = append(p, name+": xy needs axes x and y")
				}
				if pos := strings.ToLower(fmt.Sprint(ch["position"])); pos != "overlaid" && pos != "stacked" {
					p = append(p, fmt.Sprintf("%s: position %v", name, ch["position"]))
				}
			case "table":
				opts, _ := ch["tableOptions"].(obj)
				if w, ok := opts["wrapping"]; ok && !slices.Contains([]any{"", "single-line", "truncate", "wrap"}, w) {
					p = append(p, fmt.Sprintf("%s: table wrapping %v", name, w))
				}
			}
		}
		if len(charts) == 0 {
			p = append(p, "dashboard: no charts")
		}
		p = append(p, gridProblems(names, rects)...)
	}
	return p
}

// influxqlVarRE matches a Chronograf template variable in an InfluxQL query (:name:).
var influxqlVarRE = regexp.MustCompile(`:([A-Za-z_]\w*):`)

// chronografProblems checks a Chronograf dashboard export.
func chronografProblems(doc any) []string {
	var p []string
	file, _ := doc.(obj)
	meta, _ := file["meta"].(obj)
	dash, _ := file["dashboard"].(obj)
	if meta == nil || dash == nil {
		return []string{"export: want meta and dashboard"}
	}
	if v, _ := meta["chronografVersion"].(string); v == "" {
		p = append(p, "meta: no chronografVersion")
	}
	sources := map[string]bool{}
	srcs, _ := meta["sources"].(obj)
	for _, s := range srcs {
		sources[fmt.Sprint(s.(obj)["link"])] = true
	}
	if dash["name"] == "" || dash["name"] == nil {
		p = append(p, "dashboard: no name")
	}
	templates, ok := dash["templates"].([]any)
	if !ok {
		p = append(p, "dashboard: templates must be an array")
	}
	// Chronograf passes each custom template variable :name: to Flux as v.name, next to the
	// time range; the checks are those of its server (ValidTemplateRequest).
	provided := []string{"timeRangeStart", "timeRangeStop", "windowPeriod"}
	for i, tv := range templates {
		tmpl, _ := tv.(obj)
		name, _ := tmpl["tempVar"].(string)
		what := fmt.Sprintf("template %d (%s)", i, name)
		if len(name) < 3 || !strings.HasPrefix(name, ":") || !strings.HasSuffix(name, ":") {
			p = append(p, what+": tempVar must be :name:")
		} else if bare := name[1 : len(name)-1]; slices.Contains(provided, bare) {
			p = append(p, what+": defined twice")
		} else {
			provided = append(provided, bare)
		}
		if !slices.Contains([]any{"constant", "csv", "fieldKeys", "tagKeys", "tagValues", "measurements", "databases", "map", "influxql", "text", "flux"}, tmpl["type"]) {
			p = append(p, fmt.Sprintf("%s: type %v", what, tmpl["type"]))
		}
		if id, _ := tmpl["id"].(string); id == "" {
			p = append(p, what+": no id")
		}
		values, _ := tmpl["values"].([]any)
		selected := 0
		for _, v := range values {
			vo, _ := v.(obj)
			if !slices.Contains([]any{"csv", "map", "fieldKey", "tagKey", "tagValue", "measurement", "database", "constant", "influxql", "flux"}, vo["type"]) {
				p = append(p, fmt.Sprintf("%s: value type %v", what, vo["type"]))
			}
			if vo["selected"] == true {
				selected++
			}
		}
		if selected != 1 {
			p = append(p, fmt.Sprintf("%s: %d selected values, want 1", what, selected))
		}
	}
	cells, _ := dash["cells"].([]any)
	if len(cells) == 0 {
		p = append(p, "dashboard: no cells")
	}
	ids := map[string]bool{}
	var names []string
	var rects []rect
	for i, c := range cells {
		cell, _ := c.(obj)
		name := fmt.Sprintf("cell %d (%v)", i, cell["name"])
		names = append(names, name)
		rects = append(rects, rect{num(cell["x"]), num(cell["y"]), num(cell["w"]), num(cell["h"])})
		id, _ := cell["i"].(string)
		if id == "" || ids[id] {
			p = append(p, fmt.Sprintf("%s: id %q empty or repeated", name, id))
		}
		ids[id] = true
		if !slices.Contains([]any{"line", "line-stacked", "line-stepplot", "bar", "line-plus-single-stat", "single-stat", "gauge", "table", "alerts", "news", "guide", "note"}, cell["type"]) {
			p = append(p, fmt.Sprintf("%s: type %v", name, cell["type"]))
		}
		queries, _ := cell["queries"].([]any)
		if len(queries) == 0 {
			p = append(p, name+": no queries")
		}
		for _, q := range queries {
			qo, _ := q.(obj)
			text, _ := qo["query"].(string)
			if qo["type"] != "flux" && qo["type"] != "influxql" {
				p = append(p, fmt.Sprintf("%s: query type %v", name, qo["type"]))
			}
			if qc, _ := qo["queryConfig"].(obj); qc == nil || qc["rawText"] != text {
				p = append(p, name+": queryConfig.rawText must hold the query")
			}
			if !sources[fmt.Sprint(qo["source"])] {
				p = append(p, fmt.Sprintf("%s: source %v is not in meta.sources", name, qo["source"]))
			}
			for _, ref := range influxqlVarRE.FindAllStringSubmatch(text, -1) {
				if qo["type"] == "influxql" && !slices.Contains(provided, ref[1]) && !slices.Contains([]string{"dashboardTime", "upperDashboardTime", "interval"}, ref[1]) {
					p = append(p, fmt.Sprintf("%s: :%s: is neither a built-in nor a template variable of the dashboard", name, ref[1]))
				}
			}
			for _, ref := range vRefs(text) {
				if !slices.Contains(provided, ref) {
					p = append(p, fmt.Sprintf("%s: v.%s is neither a built-in nor a template variable of the dashboard", name, ref))
				}
			}
		}
		axes, _ := cell["axes"].(obj)
		for label, a := range axes {
			ax, _ := a.(obj)
			if !slices.Contains([]string{"x", "y", "y2"}, label) || !slices.Contains([]any{"linear", "log", ""}, ax["scale"]) || !slices.Contains([]any{"10", "2", "", "raw"}, ax["base"]) {
				p = append(p, fmt.Sprintf("%s: invalid axis %s", name, label))
			}
		}
		colors, _ := cell["colors"].([]any)
		for _, co := range colors {
			cc, _ := co.(obj)
			hex, _ := cc["hex"].(string)
			if !slices.Contains([]any{"max", "min", "threshold", "text", "background", "scale"}, cc["type"]) || len(hex) != 7 {
				p = append(p, fmt.Sprintf("%s: invalid color %v", name, cc))
			}
		}
		if lg, _ := cell["legend"].(obj); len(lg) > 0 && (lg["type"] != "static" || !slices.Contains([]any{"top", "bottom", "right", "left"}, lg["orientation"])) {
			p = append(p, fmt.Sprintf("%s: invalid legend %v", name, lg))
		}
		if !slices.Contains([]any{"default", "showWhenNoData"}, cell["noteVisibility"]) {
			p = append(p, fmt.Sprintf("%s: noteVisibility %v", name, cell["noteVisibility"]))
		}
	}
	return append(p, gridProblems(names, rects)...)
}

func TestInfluxDB2TemplateStructure(t *testing.T) {
	doc := readJSON(t, influx2Path)
	if p := influx2Problems(doc); len(p) > 0 {
		t.Fatalf("%s:\n%s", influx2Path, strings.Join(p, "\n"))
	}
	charts := doc.([]any)[1].(obj)["spec"].(obj)["charts"].([]any)
	var got []string
	for _, c := range charts {
		got = append(got, fmt.Sprint(c.(obj)["kind"], ": ", c.(obj)["name"]))
	}
	want := []string{
		"Table: Overdue renewals", "Table: Renewal age per domain and host", "Xy: Renewals per host per day",
		"Table: Soonest-expiring certificates", "Table: Probes by status",
		"Table: Bad replicas: pods serving a different certificate than their siblings",
		"Table: Served vs renewed: backends still serving a replaced certificate",
	}
	if !slices.Equal(got, want) {
		t.Errorf("charts %q, want %q", got, want)
	}

	for _, c := range []struct {
		name  string
		spoil func(d []any)
		want  string
	}{
		{"zero width", func(d []any) { chart(d, 0)["width"] = 0.0 }, "chart 0 (Overdue renewals): width and height must be greater than 0"},
		{"overlap", func(d []any) { chart(d, 1)["xPos"] = 3.0 }, "chart 1 (Renewal age per domain and host) overlaps chart 0 (Overdue renewals)"},
		{"off the grid", func(d []any) { chart(d, 2)["width"] = 13.0 }, "chart 2 (Renewals per host per day): outside the 12-column grid"},
		{"unknown kind", func(d []any) { chart(d, 0)["kind"] = "Tabel" }, "chart 0 (Overdue renewals): kind Tabel"},
		{"xy geometry", func(d []any) { chart(d, 2)["geom"] = "bars" }, "chart 2 (Renewals per host per day): geom bars"},
		{"undefined variable", func(d []any) { d[0].(obj)["spec"].(obj)["name"] = "bkt" }, "chart 0 (Overdue renewals): v.bucket is neither a built-in nor a Variable of the template"},
		{"resource name", func(d []any) { d[1].(obj)["metadata"].(obj)["name"] = "Certificates" }, `resource 1: metadata.name "Certificates" is not a valid resource name`},
	} {
		d := clone(doc).([]any)
		c.spoil(d)
		if p := influx2Problems(d); !slices.Contains(p, c.want) {
			t.Errorf("%s: problems %q, want %q among them", c.name, p, c.want)
		}
	}
}

func chart(d []any, i int) obj {
	return d[1].(obj)["spec"].(obj)["charts"].([]any)[i].(obj)
}

func TestChronografDashboardStructure(t *testing.T) {
	doc := readJSON(t, chronografPath)
	if p := chronografProblems(doc); len(p) > 0 {
		t.Fatalf("%s:\n%s", chronografPath, strings.Join(p, "\n"))
	}
	cellAt := func(d any, i int) obj { return d.(obj)["dashboard"].(obj)["cells"].([]any)[i].(obj) }
	// The bucket is the dashboard's template variable, by default the database/retention-policy
	// bucket InfluxDB 1.8 needs; no query names a bucket of its own.
	for i := range cells {
		q := cellAt(doc, i)["queries"].([]any)[0].(obj)["query"].(string)
		if !strings.Contains(q, "\nbucket = v.bucket\n") || strings.Contains(q, "telegraf") {
			t.Errorf("cell %d: want bucket = v.bucket and no database named in the query:\n%s", i, q)
		}
	}
	templates := doc.(obj)["dashboard"].(obj)["templates"].([]any)
	if len(templates) != 1 {
		t.Fatalf("templates %v, want only :bucket:", templates)
	}
	bucket := templates[0].(obj)
	if bucket["tempVar"] != ":bucket:" || bucket["type"] != "text" || bucket["values"].([]any)[0].(obj)["value"] != "telegraf/autogen" {
		t.Errorf("template %v, want the text variable :bucket: = telegraf/autogen", bucket)
	}
	for _, c := range []struct {
		name  string
		spoil func(d any)
		want  string
	}{
		{"overlap", func(d any) { cellAt(d, 4)["x"] = 6.0 }, "cell 4 (Probes by status) overlaps cell 3 (Soonest-expiring certificates)"},
		{"cell type", func(d any) { cellAt(d, 0)["type"] = "Table" }, "cell 0 (Overdue renewals): type Table"},
		{"query type", func(d any) { cellAt(d, 0)["queries"].([]any)[0].(obj)["type"] = "flux2" }, "cell 0 (Overdue renewals): query type flux2"},
		{"undefined variable", func(d any) {
			q := cellAt(d, 1)["queries"].([]any)[0].(obj)
			q["query"] = strings.Replace(q["query"].(string), "v.bucket", "v.bukket", 1)
			q["queryConfig"].(obj)["rawText"] = q["query"]
		}, "cell 1 (Renewal age per domain and host): v.bukket is neither a built-in nor a template variable of the dashboard"},
		{"template removed", func(d any) { d.(obj)["dashboard"].(obj)["templates"] = []any{} }, "cell 0 (Overdue renewals): v.bucket is neither a built-in nor a template variable of the dashboard"},
		{"template type", func(d any) { d.(obj)["dashboard"].(obj)["templates"].([]any)[0].(obj)["type"] = "textbox" }, "template 0 (:bucket:): type textbox"},
		{"template name", func(d any) { d.(obj)["dashboard"].(obj)["templates"].([]any)[0].(obj)["tempVar"] = "bucket" }, "template 0 (bucket): tempVar must be :name:"},
		{"built-in shadowed", func(d any) {
			d.(obj)["dashboard"].(obj)["templates"].([]any)[0].(obj)["tempVar"] = ":timeRangeStart:"
		}, "template 0 (:timeRangeStart:): defined twice"},
		{"color", func(d any) { cellAt(d, 2)["colors"].([]any)[0].(obj)["hex"] = "#31C0F" }, ""},
		{"repeated id", func(d any) { cellAt(d, 1)["i"] = cellAt(d, 0)["i"] }, ""},
	} {
		d := clone(doc)
		c.spoil(d)
		p := chronografProblems(d)
		if c.want == "" && len(p) == 0 || c.want != "" && !slices.Contains(p, c.want) {
			t.Errorf("%s: problems %q, want %q among them", c.name, p, c.want)
		}
	}
}

// grafanaProblems checks a Grafana dashboard beyond its type (test/fluxcheck type-checks it
// against @grafana/schema): the 24-column grid, unique panel ids, and that every ${variable}
// and data source reference is defined by the dashboard.
func grafanaProblems(doc any) []string {
	var p []string
	d, _ := doc.(obj)
	vars := map[string]string{}
	tmpl, _ := d["templating"].(obj)
	list, _ := tmpl["list"].([]any)
	for _, v := range list {
		vo, _ := v.(obj)
		vars[fmt.Sprint(vo["name"])] = fmt.Sprint(vo["type"])
	}
	if uid, _ := d["uid"].(string); uid == "" || len(uid) > 40 {
		p = append(p, fmt.Sprintf("uid %q: want 1 to 40 characters", uid))
	}
	panels, _ := d["panels"].([]any)
	if len(panels) == 0 {
		p = append(p, "no panels")
	}
	ids := map[int]bool{}
	var names []string
	var rects []rect
	for i, pa := range panels {
		po, _ := pa.(obj)
		name := fmt.Sprintf("panel %d (%v)", i, po["title"])
		names = append(names, name)
		g, _ := po["gridPos"].(obj)
		// Check on the 24-column grid by halving the columns.
		r := rect{num(g["x"]), num(g["y"]), num(g["w"]), num(g["h"])}
		if r.x+r.w > 24 {
			p = append(p, name+": outside the 24-column grid")
		}
		rects = append(rects, rect{r.x / 2, r.y, (r.w + 1) / 2, r.h})
		id := num(po["id"])
		if id == 0 || ids[id] {
			p = append(p, fmt.Sprintf("%s: id %d missing or repeated", name, id))
		}
		ids[id] = true
		refs := func(ds any) {
			uid := fmt.Sprint(ds.(obj)["uid"])
			if m := regexp.MustCompile(`^\$\{(\w+)\}$`).FindStringSubmatch(uid); m == nil || vars[m[1]] != "datasource" {
				p = append(p, fmt.Sprintf("%s: data source %s is not the dashboard's datasource variable", name, uid))
			}
		}
		refs(po["datasource"])
		targets, _ := po["targets"].([]any)
		if len(targets) == 0 {
			p = append(p, name+": no targets")
		}
		for _, t := range targets {
			to, _ := t.(obj)
			refs(to["datasource"])
			q, _ := to["query"].(string)
			for _, m := range regexp.MustCompile(`\$\{(\w+)\}`).FindAllStringSubmatch(q, -1) {
				if _, ok := vars[m[1]]; !ok {
					p = append(p, fmt.Sprintf("%s: ${%s} is not a variable of the dashboard", name, m[1]))
				}
			}
			for _, ref := range vRefs(q) {
				if !slices.Contains([]string{"timeRangeStart", "timeRangeStop", "windowPeriod"}, ref) {
					p = append(p, fmt.Sprintf("%s: v.%s is not provided by Grafana", name, ref))
				}
			}
		}
	}
	return append(p, gridProblems(names, rects)...)
}

func TestGrafanaDashboardStructure(t *testing.T) {
	doc := readJSON(t, grafanaPath)
	if p := grafanaProblems(doc); len(p) > 0 {
		t.Fatalf("%s:\n%s", grafanaPath, strings.Join(p, "\n"))
	}
	panel := func(d any, i int) obj { return d.(obj)["panels"].([]any)[i].(obj) }
	for _, c := range []struct {
		name  string
		spoil func(d any)
		want  string
	}{
		{"overlap", func(d any) { panel(d, 1)["gridPos"].(obj)["x"] = 10.0 }, "panel 1 (Renewal age per domain and host) overlaps panel 0 (Overdue renewals)"},
		{"wide", func(d any) { panel(d, 2)["gridPos"].(obj)["w"] = 26.0 }, "panel 2 (Renewals per host per day): outside the 24-column grid"},
		{"unknown variable", func(d any) {
			tg := panel(d, 0)["targets"].([]any)[0].(obj)
			tg["query"] = strings.Replace(tg["query"].(string), "${bucket}", "${bukket}", 1)
		}, "panel 0 (Overdue renewals): ${bukket} is not a variable of the dashboard"},
		{"data source", func(d any) { panel(d, 3)["datasource"].(obj)["uid"] = "influxdb-prod" }, "panel 3 (Soonest-expiring certificates): data source influxdb-prod is not the dashboard's datasource variable"},
		{"repeated id", func(d any) { panel(d, 4)["id"] = 1.0 }, "panel 4 (Probes by status): id 1 missing or repeated"},
	} {
		d := clone(doc)
		c.spoil(d)
		if p := grafanaProblems(d); !slices.Contains(p, c.want) {
			t.Errorf("%s: problems %q, want %q among them", c.name, p, c.want)
		}
	}
}

func TestChronografInfluxQLDashboardStructure(t *testing.T) {
	doc := readJSON(t, influxqlPath)
	if p := chronografProblems(doc); len(p) > 0 {
		t.Fatalf("%s:\n%s", influxqlPath, strings.Join(p, "\n"))
	}
	dash := doc.(obj)["dashboard"].(obj)
	var got []string
	for _, c := range dash["cells"].([]any) {
		cell := c.(obj)
		q := cell["queries"].([]any)[0].(obj)
		got = append(got, fmt.Sprint(cell["type"], ": ", cell["name"], " (", q["type"], ")"))
		// Every query reads the template variables, never a database of its own.
		text := q["query"].(string)
		if strings.Contains(text, "telegraf") || !strings.Contains(text, `FROM ":db:".":rp:".`) {
			t.Errorf("cell %v: want FROM \":db:\".\":rp:\".…, query:\n%s", cell["name"], text)
		}
	}
	want := []string{
		"table: Soonest-expiring certificates (influxql)",
		"table: Probes by status (influxql)",
		"table: Last renewal per domain and host (influxql)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("cells %q, want %q", got, want)
	}
	var vars []string
	for _, tv := range dash["templates"].([]any) {
		tmpl := tv.(obj)
		vars = append(vars, fmt.Sprint(tmpl["tempVar"], "=", tmpl["values"].([]any)[0].(obj)["value"]))
	}
	if want := []string{":db:=telegraf", ":rp:=autogen"}; !slices.Equal(vars, want) {
		t.Errorf("template variables %q, want %q", vars, want)
	}

	cellAt := func(d any, i int) obj { return d.(obj)["dashboard"].(obj)["cells"].([]any)[i].(obj) }
	for _, c := range []struct {
		name  string
		spoil func(d any)
		want  string
	}{
		{"undefined variable", func(d any) {
			q := cellAt(d, 0)["queries"].([]any)[0].(obj)
			q["query"] = strings.Replace(q["query"].(string), ":rp:", ":retention:", 1)
			q["queryConfig"].(obj)["rawText"] = q["query"]
		}, "cell 0 (Soonest-expiring certificates): :retention: is neither a built-in nor a template variable of the dashboard"},
		{"overlap", func(d any) { cellAt(d, 1)["x"] = 4.0 }, "cell 1 (Probes by status) overlaps cell 0 (Soonest-expiring certificates)"},
	} {
		d := clone(doc)
		c.spoil(d)
		if p := chronografProblems(d); !slices.Contains(p, c.want) {
			t.Errorf("%s: problems %q, want %q among them", c.name, p, c.want)
		}
	}
}
