package k8s

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// TelegrafScaleGathersEnv overrides how many agent intervals runTelegrafScale lets pass (3).
const TelegrafScaleGathersEnv = "CERTEXPIRY_SCALE_TELEGRAF_GATHERS"

// shippedConfigMap returns the data of deploy/kubernetes/configmap.yaml.
func shippedConfigMap(b testing.TB) map[string]string {
	data, err := os.ReadFile(repoPath(b, "deploy/kubernetes/configmap.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096).Decode(&cm); err != nil {
		b.Fatal(err)
	}
	return cm.Data
}

// shippedMemoryLimit returns the memory limit of the Deployment's container, in bytes: telegraf
// and the plugin run in that one container, so their sum must stay below it.
func shippedMemoryLimit(b testing.TB) int64 {
	data, err := os.ReadFile(repoPath(b, "deploy/kubernetes/deployment.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var d appsv1.Deployment
	if err := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096).Decode(&d); err != nil {
		b.Fatal(err)
	}
	limit := d.Spec.Template.Spec.Containers[0].Resources.Limits.Memory()
	if limit.IsZero() {
		b.Fatal("deployment.yaml: no memory limit")
	}
	return limit.Value()
}

// shippedGatherTimeout is gather_timeout of the shipped plugin-cluster.conf.
func shippedGatherTimeout(b testing.TB) string {
	m := regexp.MustCompile(`(?m)^\s*gather_timeout\s*=\s*"([^"]+)"`).FindStringSubmatch(shippedConfigMap(b)["plugin-cluster.conf"])
	if m == nil {
		b.Fatal("configmap.yaml: plugin-cluster.conf sets no gather_timeout")
	}
	return m[1]
}

// shippedAgentInterval is the [agent] interval of the shipped telegraf.conf.
func shippedAgentInterval(b testing.TB) time.Duration {
	m := regexp.MustCompile(`(?m)^\s*interval\s*=\s*"([^"]+)"`).FindStringSubmatch(shippedConfigMap(b)["telegraf.conf"])
	if m == nil {
		b.Fatal("configmap.yaml: telegraf.conf sets no interval")
	}
	d, err := time.ParseDuration(m[1])
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// childPID returns a child of pid (the plugin process under telegraf's execd), found by the
// parent PID in /proc/*/stat.
func childPID(pid int) (int, error) {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // gone meanwhile
		}
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			return strconv.Atoi(filepath.Base(filepath.Dir(path)))
		}
	}
	return 0, fmt.Errorf("process %d has no child", pid)
}

// runTelegrafScale runs the real telegraf with the shipped ConfigMap's telegraf.conf as it is —
// agent settings, execd input, influxdb_v2 output — except for the paths of the plugin binary
// and its config, and an output URL on a closed loopback port: the worst case for memory, an
// output outage, in which telegraf keeps every row up to metric_buffer_limit. It lets 3 agent
// intervals pass (each a gather of every pod), then records both processes' peak RSS and fails
// if together they exceed the Deployment's memory limit (one container holds both).
func runTelegrafScale(b *testing.B, plugin, pluginConf string, pods int) {
	telegraf := testenv.Binary(b, "telegraf")
	conf := shippedConfigMap(b)["telegraf.conf"]
	for old, repl := range map[string]string{
		"/usr/local/bin/telegraf-certexpiry":   plugin,
		"/etc/telegraf-certexpiry/plugin.conf": pluginConf,
	} {
		if !strings.Contains(conf, old) {
			b.Fatalf("configmap.yaml: telegraf.conf no longer mentions %s", old)
		}
		conf = strings.ReplaceAll(conf, old, repl)
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "telegraf.conf")
	if err := writeFile(path, []byte(conf)); err != nil {
		b.Fatal(err)
	}
	gathers := 3
	if v := os.Getenv(TelegrafScaleGathersEnv); v != "" {
		gathers, _ = strconv.Atoi(v)
	}
	limit := shippedMemoryLimit(b)
	interval := shippedAgentInterval(b)
	for range b.N {
		cmd := exec.Command(telegraf, "--config", path, "--debug")
		cmd.Env = append(os.Environ(),
			"INFLUX_URL=http://127.0.0.1:"+strconv.Itoa(testenv.FreePort(b)), "INFLUX_TOKEN=t", "INFLUX_ORG=o", "INFLUX_BUCKET=b")
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(time.Duration(gathers)*interval + 30*time.Second)
		var pluginRSS, telegrafRSS int64
		for time.Now().Before(deadline) {
			time.Sleep(time.Second)
			if pid, err := childPID(cmd.Process.Pid); err == nil {
				if rss, err := peakRSS(pid); err == nil && rss > pluginRSS {
					pluginRSS = rss
				}
			}
		}
		rss, err := peakRSS(cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		telegrafRSS = rss
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		out := log.String()
		fullness := regexp.MustCompile(`Buffer fullness: (\d+) / (\d+) metrics`).FindAllStringSubmatch(out, -1)
		if len(fullness) == 0 || pluginRSS == 0 {
			b.Fatalf("telegraf buffered nothing or the plugin never ran:\n%s", tail(out, 4000))
		}
		buffered, _ := strconv.Atoi(fullness[len(fullness)-1][1])
		bufferLimit, _ := strconv.Atoi(fullness[len(fullness)-1][2])
		dropped := 0
		for _, m := range regexp.MustCompile(`(\d+) metrics have been dropped`).FindAllStringSubmatch(out, -1) {
			n, _ := strconv.Atoi(m[1])
			dropped += n
		}
		if gathers > 0 && buffered == 0 {
			b.Fatalf("telegraf buffered no rows in %d intervals:\n%s", gathers, tail(out, 4000))
		}
		b.ReportMetric(float64(pods), "pods")
		b.ReportMetric(float64(telegrafRSS)/(1<<20), "telegraf_peak_rss_MiB")
		b.ReportMetric(float64(pluginRSS)/(1<<20), "plugin_peak_rss_MiB")
		b.ReportMetric(float64(telegrafRSS+pluginRSS)/(1<<20), "sum_MiB")
		b.ReportMetric(float64(limit)/(1<<20), "limit_MiB")
		b.ReportMetric(float64(buffered), "buffered_rows")
		b.ReportMetric(float64(bufferLimit), "metric_buffer_limit")
		b.ReportMetric(float64(dropped), "dropped_rows")
		if telegrafRSS+pluginRSS > limit {
			b.Fatalf("telegraf %d MiB + plugin %d MiB exceed the Deployment's memory limit of %d MiB", telegrafRSS>>20, pluginRSS>>20, limit>>20)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
