package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// binaries builds the plugin and returns the demo's configuration with every component.
func binaries(t *testing.T) config {
	t.Helper()
	cfg := config{
		Telegraf:      testenv.Binary(t, "telegraf"),
		Etcd:          testenv.Binary(t, "etcd"),
		KubeAPIServer: testenv.Binary(t, "kube-apiserver"),
		Plugin:        filepath.Join(t.TempDir(), "telegraf-certexpiry"),
		Manifests:     filepath.Join(testenv.RepoRoot(t), "deploy", "kubernetes"),
	}
	goBuild(t, cfg.Plugin, "./cmd/telegraf-certexpiry")
	return cfg
}

func goBuild(t *testing.T, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = testenv.RepoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// TestDemoKubernetes runs the whole demo: real kube-apiserver + etcd, the shipped RBAC, real
// TLS servers on the pods' IPs, the real plugin binary under a real Telegraf. The summary must
// name exactly the two bad replicas, the gather after the changes must follow all three of
// them, and no gather may have made an API request.
func TestDemoKubernetes(t *testing.T) {
	testenv.RequireIntegration(t)
	cfg := binaries(t)
	var out bytes.Buffer
	rep, err := run(context.Background(), cfg, &out)
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}

	var got []string
	for _, f := range rep.Bad {
		got = append(got, f.Replica)
	}
	want := []string{"shop-eu/web-6c8d7f9b4-tq7mn", "shop-us/web-5f7b9c6d8-kp3sd"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("bad replicas %v, want %v", got, want)
	}
	reasons := []*regexp.Regexp{
		regexp.MustCompile(`^serves an expired certificate for shop\.example\.test \(expired 2\.0 days ago, not after \d{4}-\d\d-\d\d\)$`),
		regexp.MustCompile(`^still serves the previous certificate for shop\.example\.test \(not after \d{4}-\d\d-\d\d, 29\.0 days left, serial [0-9a-f]+\) after a renewal: its siblings serve one valid until \d{4}-\d\d-\d\d$`),
	}
	for i, re := range reasons {
		if !re.MatchString(rep.Bad[i].Reason) {
			t.Errorf("reason for %s:\n got %q\nwant %s", rep.Bad[i].Replica, rep.Bad[i].Reason, re)
		}
	}
	if n := strings.Count(out.String(), "\n   BAD "); n != 2 {
		t.Errorf("the printed summary has %d BAD lines, want 2", n)
	}

	before := []string{
		"shop-eu/web-6c8d7f9b4-2xkqp", "shop-eu/web-6c8d7f9b4-8hz4w", "shop-eu/web-6c8d7f9b4-tq7mn",
		"shop-us/web-5f7b9c6d8-4rj2v", "shop-us/web-5f7b9c6d8-9wlcx", "shop-us/web-5f7b9c6d8-kp3sd",
	}
	after := []string{
		"shop-eu/web-6c8d7f9b4-2xkqp", "shop-eu/web-6c8d7f9b4-tq7mn",
		"shop-us/web-5f7b9c6d8-4rj2v", "shop-us/web-5f7b9c6d8-kp3sd", "shop-us/web-5f7b9c6d8-zm6qf",
	}
	if !reflect.DeepEqual(rep.PodsBefore, before) {
		t.Errorf("pods with rows before the changes %v, want %v", rep.PodsBefore, before)
	}
	if !reflect.DeepEqual(rep.PodsAfter, after) {
		t.Errorf("pods with rows after the changes %v, want %v", rep.PodsAfter, after)
	}
	if rep.NotReadyAfter != 1 {
		t.Errorf("skipped_not_ready after the changes = %d, want 1", rep.NotReadyAfter)
	}

	// Watched, not polled: between the first gather and the one after the changes, the API
	// server completed no pod LIST or WATCH, the plugin counted no request, and its two watches
	// (one per namespace) stayed open.
	if rep.GathersBetween < 1 {
		t.Errorf("%d gathers between, want at least 1", rep.GathersBetween)
	}
	if rep.APIAfter != rep.APIBefore {
		t.Errorf("API server pod reads changed over %d gathers: %s, then %s", rep.GathersBetween, rep.APIBefore, rep.APIAfter)
	}
	if n := rep.APIBefore.OpenWatches - rep.APIStart.OpenWatches; n != 2 {
		t.Errorf("the plugin opened %d pod watches (%s, then %s), want 2: one per namespace", n, rep.APIStart, rep.APIBefore)
	}
	if rep.PluginRequestsBefore == 0 || rep.PluginRequestsAfter != rep.PluginRequestsBefore {
		t.Errorf("plugin api_requests %d, then %d: want the same non-zero count", rep.PluginRequestsBefore, rep.PluginRequestsAfter)
	}
	if _, err := os.Stat(rep.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("scene directory %s left behind (%v)", rep.Dir, err)
	}
}

// TestDemoKubernetesCtrlC interrupts the demo program (built as `make demo-kubernetes` runs it)
// once the plugin is gathering, as Ctrl-C would, and checks that it stops everything it
// started — etcd, kube-apiserver, Telegraf and the plugin Telegraf started — and removes its
// directory.
func TestDemoKubernetesCtrlC(t *testing.T) {
	testenv.RequireIntegration(t)
	cfg := binaries(t)
	demo := filepath.Join(t.TempDir(), "demokube")
	goBuild(t, demo, "./test/demokube")

	cmd := exec.Command(demo, "-telegraf", cfg.Telegraf, "-etcd", cfg.Etcd, "-kube-apiserver", cfg.KubeAPIServer,
		"-plugin", cfg.Plugin, "-manifests", cfg.Manifests)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()

	pidRe := regexp.MustCompile(`pid (\d+)`)
	var pids []int
	var dir string
	var seen strings.Builder // what the demo printed, for failure messages
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		line := lines.Text()
		seen.WriteString(line + "\n")
		if m := pidRe.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			pids = append(pids, n)
		}
		if d, ok := strings.CutPrefix(line, "   scene directory: "); ok {
			dir = d
		}
		if strings.HasPrefix(line, "== First complete gather") {
			break
		}
	}
	if len(pids) != 3 || dir == "" {
		t.Fatalf("want the pids of etcd, kube-apiserver and telegraf and the scene directory before the first gather; got %v, %q\nstdout:\n%s\nstderr:\n%s", pids, dir, seen.String(), stderr.String())
	}
	// Every process in the groups of those three, the plugin under Telegraf included.
	members := groupMembers(pids)
	if len(members) < 4 {
		t.Fatalf("want etcd, kube-apiserver, telegraf and the plugin running, found processes %v in groups %v", members, pids)
	}
	// Read the rest of stdout until the demo closes it (its children write to log files).
	drained := make(chan struct{})
	go func() {
		for lines.Scan() {
		}
		close(drained)
	}()

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-drained:
	case <-time.After(60 * time.Second):
		t.Fatal("the demo did not end within 60 s of SIGINT")
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Errorf("exit: %v, want status 130\nstderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "demo-kubernetes: interrupted; everything it started is stopped") {
		t.Errorf("stderr does not say it stopped everything:\n%s", stderr.String())
	}
	for _, pid := range members {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			t.Errorf("process %d (%s) still runs after the demo ended", pid, comm(pid))
		}
	}
	if left := groupMembers(pids); len(left) > 0 {
		t.Errorf("processes %v still run in the demo's process groups", left)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("scene directory %s left behind (%v)", dir, err)
	}
}

// groupMembers lists the running processes whose process group is one of groups.
func groupMembers(groups []int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so read after the last ')'.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 3 || f[0] == "Z" {
			continue
		}
		pgrp, _ := strconv.Atoi(f[2])
		for _, g := range groups {
			if pgrp == g {
				out = append(out, pid)
			}
		}
	}
	return out
}

func comm(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return strings.TrimSpace(string(b))
}
