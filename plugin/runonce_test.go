package plugin

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/discovery"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/probe"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// RunOnce hands out, one result at a time, exactly the rows one Gather adds: same static and
// pod targets, same tags and fields, same discovery row. It leaves the certbot spool alone.
func TestRunOnceYieldsWhatGatherAdds(t *testing.T) {
	root := must(testcerts.NewCA("Root", k8sNow.Add(-365*day), k8sNow.Add(3650*day)))
	good := must(root.Issue(testcerts.Options{DNSNames: []string{"shop.test"}, NotBefore: k8sNow.Add(-day), NotAfter: k8sNow.Add(60 * day)}))
	expired := must(root.Issue(testcerts.Options{DNSNames: []string{"shop.test"}, NotBefore: k8sNow.Add(-90 * day), NotAfter: k8sNow.Add(-day)}))
	first := must(testcerts.ServeLeaf("127.0.0.31:0", good))
	t.Cleanup(func() { first.Close() })
	port := first.Port()
	serveOnPort(t, "127.0.0.32", port, expired)
	caFile := writeFile(t, "ca.pem", root.CertPEM())
	spoolLine := "certbot_renewal,domain=shop.test,host=h renewed_count=1i 1795335563914642600\n"
	spool := writeFile(t, "spool.lp", []byte(spoolLine))

	newPlugin := func() *CertExpiry {
		c := New()
		c.now = func() time.Time { return k8sNow }
		c.Domains = []string{"shop.test"}
		c.Ports = []int{port}
		c.CAFile = caFile
		c.Targets = []StaticTarget{{Address: "127.0.0.31"}}
		c.Kubernetes = &discovery.Config{Namespaces: []string{"shop"}}
		if err := c.Init(); err != nil {
			t.Fatal(err)
		}
		withFakeClient(c.kube,
			k8sPod("shop", "web-a", "node-1", "127.0.0.31", true),
			k8sPod("shop", "web-b", "node-2", "127.0.0.32", true),
			k8sPod("shop", "web-c", "node-2", "", false),
		)
		return c
	}

	// What Telegraf gets.
	g := newPlugin()
	acc := &metrictest.Accumulator{}
	if err := g.Start(acc); err != nil {
		t.Fatal(err)
	}
	if err := g.Gather(acc); err != nil {
		t.Fatal(err)
	}
	g.Stop()
	var want []string
	for _, r := range acc.Measurement(Measurement) {
		want = append(want, metrictest.TagLine(r.Tags)+" "+metrictest.TagLine(stringify(r.Fields)))
	}
	sort.Strings(want)
	wantDisc := acc.Measurement(DiscoveryMeasurement)

	// What RunOnce hands out.
	c := newPlugin()
	c.CertbotSpool = spool
	var got []string
	var statuses []probe.Status
	run, err := c.RunOnce(context.Background(), func(r probe.Result) {
		tags, fields := ResultRow(&r)
		got = append(got, metrictest.TagLine(tags)+" "+metrictest.TagLine(stringify(fields)))
		statuses = append(statuses, r.Status)
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if len(want) != 3 || !reflect.DeepEqual(got, want) {
		t.Fatalf("RunOnce rows\n%q\nGather rows\n%q", got, want)
	}
	if run.Probes != 3 || !run.At.Equal(k8sNow) || !reflect.DeepEqual(statuses, []probe.Status{probe.StatusValid, probe.StatusValid, probe.StatusExpired}) {
		t.Errorf("run: %d probes at %v, statuses %v; want 3 at %v: valid, valid, expired", run.Probes, run.At, statuses, k8sNow)
	}
	if d := run.Discovery; d == nil || d.Stats.Pods != 3 || d.Stats.Targets != 2 || d.Stats.Skipped[discovery.ReasonNoIP] != 1 || !d.Synced {
		t.Errorf("discovery %+v: want 3 pods, 2 targets, 1 skipped for no IP, synced", d)
	}
	tags, fields, ok := run.DiscoveryRow()
	if !ok || len(wantDisc) != 1 || !reflect.DeepEqual(tags, wantDisc[0].Tags) || !reflect.DeepEqual(fields, wantDisc[0].Fields) {
		t.Errorf("discovery row %v %v %v\nwant %v", ok, tags, fields, wantDisc)
	}
	if b, _ := os.ReadFile(spool); string(b) != spoolLine {
		t.Errorf("RunOnce consumed the certbot spool: now %q", b)
	}
}

func TestRunOnceWithoutKubernetesHasNoDiscovery(t *testing.T) {
	c := New()
	c.Domains = []string{"a.test"}
	c.Targets = []StaticTarget{{Address: "127.0.0.1"}}
	if _, err := c.RunOnce(context.Background(), func(probe.Result) {}); err == nil || err.Error() != "RunOnce called before Init" {
		t.Fatalf("RunOnce before Init: %v", err)
	}
	c.Ports = []int{testenv.FreePort(t)}
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	n := 0
	run, err := c.RunOnce(context.Background(), func(r probe.Result) {
		n++
		if r.Status != probe.StatusUnreachable {
			t.Errorf("status %v, want unreachable", r.Status)
		}
	})
	if err != nil || n != 1 || run.Probes != 1 || run.Discovery != nil {
		t.Fatalf("err %v, %d results, run %+v: want one unreachable result and no discovery", err, n, run)
	}
	if _, _, ok := run.DiscoveryRow(); ok {
		t.Error("DiscoveryRow without Kubernetes")
	}
}

// stringify turns field values into their %v text, so that a row reads as one tag line;
// handshake_ms, a wall-clock measurement, only says that it is there.
func stringify(fields map[string]any) map[string]string {
	out := make(map[string]string, len(fields))
	for k, v := range fields {
		out[k] = fmt.Sprint(v)
	}
	if _, ok := fields["handshake_ms"]; ok {
		out["handshake_ms"] = "measured"
	}
	return out
}
