package plugin

import (
	"fmt"
	"sync"
	"time"
)

// backToBack is how soon after a gather ends the next one must start for the plugin to
// conclude that its request was already waiting. Telegraf's shim starts a waiting gather at
// once (microseconds); a request that arrives by chance this close to the end of a gather
// means the gather used up practically the whole interval anyway.
const backToBack = 50 * time.Millisecond

// minJudged is the shortest gather judged: a gather shorter than that followed at once by
// the next is a caller gathering in a loop (a test, a one-off check), not a gather outrunning
// Telegraf's interval, which is whole seconds.
const minJudged = time.Second

// overrunWatch notices gathers that take longer than the time between two gather requests.
// Telegraf's shim keeps at most one request waiting and drops the others, so such gathers run
// back to back, rows arrive late and some intervals get none. The plugin sees only when each
// Gather starts and ends: when a gather starts within backToBack of the previous one's end, a
// request was waiting. The time between requests is known from any two gathers whose second
// found the plugin idle (then it started when its request came). The first gather, which also
// waits for the informers' first LIST, is not judged, nor is one shorter than minJudged. It
// warns once per process.
type overrunWatch struct {
	mu        sync.Mutex
	gathers   int
	lastStart time.Time
	lastEnd   time.Time
	interval  time.Duration // shortest time between two requests seen; 0 while unknown
	warned    bool
}

// begin records the start of a gather. It returns a warning when the gather before it (not
// the first) overran, and none has been given yet.
func (w *overrunWatch) begin(start time.Time) (warning string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer func() { w.gathers++; w.lastStart = start }()
	if w.gathers == 0 {
		return ""
	}
	if start.Sub(w.lastEnd) >= backToBack {
		if gap := start.Sub(w.lastStart); w.interval == 0 || gap < w.interval {
			w.interval = gap
		}
		return ""
	}
	took := w.lastEnd.Sub(w.lastStart)
	if w.gathers < 2 || w.warned || took < minJudged {
		return ""
	}
	w.warned = true
	if w.interval == 0 {
		return fmt.Sprintf("a gather took %s and the next gather request was already waiting when it ended: requests come more often than every %s", round(took), round(took))
	}
	return fmt.Sprintf("a gather took %s, longer than the %s between gather requests", round(took), round(w.interval))
}

// end records the end of a gather. It returns a warning when this gather (not the first) took
// longer than the known time between requests, and none has been given yet.
func (w *overrunWatch) end(end time.Time) (warning string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lastEnd = end
	took := end.Sub(w.lastStart)
	if w.gathers < 2 || w.warned || w.interval == 0 || took <= w.interval || took < minJudged {
		return ""
	}
	w.warned = true
	return fmt.Sprintf("a gather took %s, longer than the %s between gather requests", round(took), round(w.interval))
}

// round keeps durations readable in the warning: milliseconds under 10 s, then tenths.
func round(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

// overrunAdvice says what to change, with the options' current values.
func (c *CertExpiry) overrunAdvice() string {
	advice := fmt.Sprintf("; Telegraf drops the requests that arrive meanwhile, so some intervals get no rows. "+
		"Raise the interval (the execd input's, or the agent's), or shorten gathers: raise max_concurrency (now %d), "+
		"lower timeout (now %s) or gather_timeout (now %s)",
		c.MaxConcurrency, time.Duration(c.Timeout), time.Duration(c.GatherTimeout))
	if c.Kubernetes != nil {
		advice += `, or probe per node with pod_scrape_scope = "node" (the DaemonSet)`
	}
	return advice
}
