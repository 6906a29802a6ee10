package plugin

import (
	"errors"
	"fmt"
	"os"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/parsers/influx"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/certbot/spool"
)

// gatherCertbotSpool emits the certbot hook's spooled lines (certbot_spool option) as metrics
// and then removes exactly the lines it read, under the spool's lock. The semantics match the
// hook's own delivery: a crash between emitting and removing sends the lines again (points
// with equal series and timestamp overwrite), never loses them. Lines that do not parse are
// moved to PATH.rejected and reported as an error, so one bad line cannot block the rest.
//
// A missing spool file is an empty spool. When the hook holds the lock (it is delivering over
// HTTP right now) this gather emits nothing and the next one tries again.
func gatherCertbotSpool(path string, acc telegraf.Accumulator) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	tx, err := spool.New(path).TryLock()
	if errors.Is(err, spool.ErrBusy) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("certbot_spool: %w", err)
	}
	defer tx.Close()
	lines, err := tx.Lines()
	if err != nil {
		return fmt.Errorf("certbot_spool: %w", err)
	}
	if len(lines) == 0 {
		return nil
	}
	parser := &influx.Parser{}
	if err := parser.Init(); err != nil {
		return fmt.Errorf("certbot_spool: %w", err)
	}
	var bad [][]byte
	var errs []error
	for i, l := range lines {
		m, err := parser.ParseLine(string(l))
		if err != nil {
			bad = append(bad, l)
			errs = append(errs, fmt.Errorf("line %d %q: %w", i+1, l, err))
			continue
		}
		acc.AddMetric(m)
	}
	if len(bad) > 0 {
		if err := tx.Reject(bad); err != nil {
			// Keep everything rather than drop the bad lines silently; the good ones will
			// be emitted again next time (harmless duplicates).
			return fmt.Errorf("certbot_spool %s: %w", path, errors.Join(append(errs, err)...))
		}
	}
	if err := tx.Remove(len(lines)); err != nil {
		return fmt.Errorf("certbot_spool: %w", err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("certbot_spool %s: %d unparsable lines moved to %s: %w", path, len(bad), tx.RejectedPath(), errors.Join(errs...))
	}
	return nil
}
