package plugin

import "github.com/influxdata/telegraf"

// gatherCertbotSpool emits the certbot hook's spooled lines through Telegraf. (Stub: the certbot
// helper fills it in.)
func gatherCertbotSpool(path string, acc telegraf.Accumulator) error { return nil }
