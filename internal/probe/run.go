package probe

import (
	"context"
	"sync"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/target"
)

// DefaultConcurrency is the number of probes in flight when Run is given zero or less.
const DefaultConcurrency = 128

// Run probes every entry of probes with at most concurrency probes in flight and returns one
// Result per probe, in the same order. ctx is the whole run's budget: probes still queued when
// it ends are not dialled and report StatusTimeout with ErrBudgetExceeded, so the result count
// always equals len(probes).
func (p *Prober) Run(ctx context.Context, probes []target.Probe, concurrency int) []Result {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	if concurrency > len(probes) {
		concurrency = len(probes)
	}
	results := make([]Result, len(probes))
	next := make(chan int)
	var wg sync.WaitGroup
	wg.Add(concurrency)
	for range concurrency {
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = p.Probe(ctx, probes[i])
			}
		}()
	}
	for i := range probes {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}
