package probe

import (
	"context"
	"sync"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
)

// DefaultConcurrency is the number of probes in flight when Stream or Run is given zero or less.
const DefaultConcurrency = 128

// Stream probes every entry of probes with at most concurrency probes in flight and calls emit
// exactly once per probe, as soon as that probe ends, with the probe's index in probes and its
// Result. emit runs on the worker that ran the probe, so calls are concurrent and in no
// particular order; emit must not keep r (or its Chain) after it returns: that is what keeps
// memory bounded by concurrency rather than by the number of probes. ctx is the whole run's
// budget: probes still queued when it ends are not dialled and report StatusTimeout with
// ErrBudgetExceeded, so emit is called len(probes) times whatever happens. Stream returns
// when the last emit has returned. Replicas serving the same chain have its signatures
// checked once per call (see verifyCache); each Result is still judged at its own instant.
func (p *Prober) Stream(ctx context.Context, probes []target.Probe, concurrency int, emit func(i int, r *Result)) {
	p.stream(ctx, probes, concurrency, newVerifyCache(), emit)
}

// stream is Stream verifying chains through cache; tests pass their own to look into it.
func (p *Prober) stream(ctx context.Context, probes []target.Probe, concurrency int, cache *verifyCache, emit func(i int, r *Result)) {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	if concurrency > len(probes) {
		concurrency = len(probes)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	wg.Add(concurrency)
	for range concurrency {
		go func() {
			defer wg.Done()
			for i := range next {
				r := p.probe(ctx, probes[i], cache)
				emit(i, &r)
			}
		}()
	}
	for i := range probes {
		next <- i
	}
	close(next)
	wg.Wait()
}

// Run is Stream collecting the Results, in the order of probes. It holds every chain until the
// last probe ends: for a handful of probes (a one-off check), not for a gather.
func (p *Prober) Run(ctx context.Context, probes []target.Probe, concurrency int) []Result {
	results := make([]Result, len(probes))
	p.Stream(ctx, probes, concurrency, func(i int, r *Result) { results[i] = *r })
	return results
}
