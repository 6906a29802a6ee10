package spool

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkDrainBacklog measures the spool's own cost of delivering a backlog (a server that
// was down for a long time): read, check every line, batch, rewrite the remainder after every
// batch, fsync. The receiver accepts instantly, so the figure is the spool's overhead, not the
// network's.
func BenchmarkDrainBacklog(b *testing.B) {
	for _, lines := range []int{300, 3000, 30000} {
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			var content []byte
			for i := range lines {
				content = fmt.Appendf(content, "certbot_renewal,domain=site%d.example,host=web-1 renewed_count=1,not_before=1795330800i,not_after=1803106799i,lifetime=7775999i %d\n", i, 1795335563914642600+int64(i))
			}
			dir := b.TempDir()
			accept := func(context.Context, [][]byte) error { return nil }
			for i := 0; i < b.N; i++ {
				// A directory per run, as in production: the rewrite lists the directory
				// for stale temporary files.
				sp := New(filepath.Join(dir, fmt.Sprint(i), "spool.lp"))
				tx, err := sp.Lock(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if _, err := tx.Append(content); err != nil {
					b.Fatal(err)
				}
				res, err := tx.Drain(context.Background(), 1000, accept)
				if err != nil || res.Delivered != lines {
					b.Fatalf("%+v %v", res, err)
				}
				tx.Close()
			}
		})
	}
}
