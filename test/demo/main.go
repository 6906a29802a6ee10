// Command demo shows telegraf-certexpiry at work on a machine with no cluster: it starts TLS
// servers on loopback serving a valid, a soon-expiring, an expired and a wrong-domain
// certificate (plus a closed port), runs a real telegraf with the plugin under
// [[inputs.execd]], and prints the cert_expiry rows Telegraf wrote. Run it with `make demo`.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/influxdata/telegraf/plugins/parsers/influx"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/demo"
)

func main() {
	telegrafBin := flag.String("telegraf", "", "telegraf binary (make demo builds v1.39.3)")
	pluginBin := flag.String("plugin", "bin/telegraf-certexpiry", "telegraf-certexpiry binary")
	keep := flag.Bool("keep", false, "keep the scene's directory (configs, CA, output) for a look")
	flag.Parse()
	if err := run(*telegrafBin, *pluginBin, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(telegrafBin, pluginBin string, keep bool) error {
	if telegrafBin == "" {
		return fmt.Errorf("-telegraf is required")
	}
	pluginBin, err := filepath.Abs(pluginBin)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "certexpiry-demo-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	scene, err := demo.Start(dir, pluginBin, time.Now())
	if err != nil {
		return err
	}
	defer scene.Close()

	fmt.Println("== Backends on loopback (each asked for", demo.Domain+")")
	for _, b := range scene.Backends {
		fmt.Printf("   %s:%-5d  %s\n", b.Address, b.Port, b.Name)
	}
	for _, f := range []string{scene.TelegrafConfig, scene.PluginConfig} {
		body, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		fmt.Printf("\n== %s\n%s", filepath.Base(f), body)
	}

	fmt.Printf("\n== Running: %s --config telegraf.conf --once --test-wait 5\n", filepath.Base(telegrafBin))
	cmd := exec.Command(telegrafBin, "--config", scene.TelegrafConfig, "--once", "--test-wait", "5")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("telegraf: %v\n%s", err, log.String())
	}
	out, err := os.ReadFile(scene.OutputFile)
	if err != nil || len(out) == 0 {
		return fmt.Errorf("telegraf wrote no metrics (%v)\n%s", err, log.String())
	}
	fmt.Printf("\n== Line protocol Telegraf wrote (outputs.file)\n%s", out)
	if keep {
		fmt.Printf("\n(scene kept in %s)\n", dir)
	}
	return summarize(out)
}

// summarize prints the rows as a table a person can read at a glance.
func summarize(lines []byte) error {
	p := &influx.Parser{}
	if err := p.Init(); err != nil {
		return err
	}
	metrics, err := p.Parse(lines)
	if err != nil {
		return err
	}
	sort.Slice(metrics, func(i, j int) bool { return metrics[i].Tags()["address"] < metrics[j].Tags()["address"] })
	fmt.Println("\n== Summary")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tPORT\tDOMAIN\tSTATUS\tDAYS LEFT\tVERIFIED\tDETAIL")
	for _, m := range metrics {
		days := "-"
		if e, ok := m.GetField("expiry"); ok {
			days = fmt.Sprintf("%.1f", float64(e.(int64))/86400)
		}
		verified := "-"
		if v, ok := m.GetField("verified"); ok {
			verified = fmt.Sprint(v)
		}
		detail := ""
		for _, k := range []string{"error", "verification_error"} {
			if v, ok := m.GetField(k); ok && v.(string) != "" {
				detail = v.(string)
				break
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Tags()["address"], m.Tags()["port"], m.Tags()["domain"], m.Tags()["status"], days, verified, firstLine(detail))
	}
	return tw.Flush()
}

func firstLine(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	if sc.Scan() {
		return sc.Text()
	}
	return ""
}
