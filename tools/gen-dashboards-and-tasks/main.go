// Command gen-dashboards-and-tasks writes everything that embeds the repository's Flux
// queries — the dashboards and the Kapacitor tasks' queryFlux bodies — from the query files,
// so that each query has one source of truth:
//
//   - flux/dashboards/influxdb2-template.json  InfluxDB 2 template (`influx apply -f`)
//   - flux/dashboards/chronograf-dashboard.json Chronograf dashboard export (Flux, InfluxDB 1.8)
//   - flux/dashboards/grafana-dashboard.json    Grafana dashboard (InfluxDB data source, Flux)
//   - flux/dashboards/chronograf-influxql-dashboard.json  Chronograf dashboard export
//     (InfluxQL, InfluxDB 1.x without Flux; its queries are in influxql.go)
//   - the queryFlux bodies of kapacitor/*.tick
//
// Usage (from the repository root; `make dashboards` runs the first):
//
//	go run ./tools/gen-dashboards-and-tasks            write the files
//	go run ./tools/gen-dashboards-and-tasks -check     write nothing; exit 1 listing the files that differ
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Output paths, below the repository root.
const (
	influx2Path    = "flux/dashboards/influxdb2-template.json"
	chronografPath = "flux/dashboards/chronograf-dashboard.json"
	grafanaPath    = "flux/dashboards/grafana-dashboard.json"
	// influxqlPath has no Flux: its queries are in influxql.go.
	influxqlPath = "flux/dashboards/chronograf-influxql-dashboard.json"
)

// generate renders every output, keyed by path below root.
func generate(root string) (map[string][]byte, error) {
	out := map[string][]byte{}
	i2, err := influx2Template(root)
	if err != nil {
		return nil, err
	}
	if out[influx2Path], err = marshal(i2); err != nil {
		return nil, err
	}
	cg, err := chronografDashboard(root)
	if err != nil {
		return nil, err
	}
	if out[chronografPath], err = marshal(cg); err != nil {
		return nil, err
	}
	if out[influxqlPath], err = marshal(chronografInfluxQLDashboard()); err != nil {
		return nil, err
	}
	gf, err := grafanaDashboard(root)
	if err != nil {
		return nil, err
	}
	if out[grafanaPath], err = marshal(gf); err != nil {
		return nil, err
	}
	for _, tq := range tickQueries {
		s, err := tickScript(root, tq)
		if err != nil {
			return nil, err
		}
		out[tq.Tick] = []byte(s)
	}
	return out, nil
}

// marshal is indented JSON with a final newline, without HTML escaping (queries hold < and >).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// stale lists the outputs whose file content differs from what generate renders.
func stale(root string, out map[string][]byte) ([]string, error) {
	var paths []string
	for p := range out {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var diff []string
	for _, p := range paths {
		cur, err := os.ReadFile(filepath.Join(root, p))
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		if !bytes.Equal(cur, out[p]) {
			diff = append(diff, p)
		}
	}
	return diff, nil
}

func run(root string, check bool) error {
	out, err := generate(root)
	if err != nil {
		return err
	}
	diff, err := stale(root, out)
	if err != nil {
		return err
	}
	if check {
		if len(diff) > 0 {
			return fmt.Errorf("out of date (run `make dashboards` and commit): %v", diff)
		}
		return nil
	}
	for _, p := range diff {
		if err := os.WriteFile(filepath.Join(root, p), out[p], 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", p)
	}
	return nil
}

func main() {
	root := flag.String("root", ".", "repository root")
	check := flag.Bool("check", false, "write nothing; fail when a generated file is out of date")
	flag.Parse()
	if err := run(*root, *check); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
