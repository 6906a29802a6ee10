// Renewal age: one row per (domain, host) with the time of its last successful renewal, how
// many days ago that was, and the lifetime of the certificate it installed — the seed's
// "domains and the time since last renewal" table, oldest renewal first.
//
// Answers: "when did each certificate last renew, and on which host?" The same domain renewed
// on two hosts is two rows (the seed's table dropped the host).
//
// Runs on InfluxDB 1.8 (Flux 0.65) and newer. Data: measurement certbot_renewal written by
// the deploy hook (`telegraf-certexpiry certbot-hook`); the per-run total row (domain "all")
// is left out. lifetime_days is 0 when the hook did not send a lifetime.
//
// Fixed from the seed: its map() was missing "}))" (a syntax error), it lost the host, and it
// divided integer nanoseconds before converting, truncating to whole seconds for no reason.
//
// Parameters:
//   bucket    "database/retention-policy" on InfluxDB 1.x, bucket name on 2.x
//   lookback  how far back to look; a certificate whose last renewal is older is not listed,
//             so keep it longer than your longest certificate lifetime (negative duration)
bucket = "telegraf/autogen"
lookback = -180d

queryTime = now()

from(bucket: bucket)
  |> range(start: lookback)
  |> filter(fn: (r) => r._measurement == "certbot_renewal" and r.domain != "all")
  |> filter(fn: (r) => r._field == "renewed_count" or r._field == "lifetime")
  |> group(columns: ["domain", "host", "_field"])
  |> last()
  // pivot merges the renewed_count and lifetime tables of a (domain, host) into one; they
  // cannot be regrouped first, as renewed_count is a float (the seed's type) and lifetime an
  // integer, and one column cannot hold both.
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  // The two last() rows come from different renewals only when the newest renewal carried
  // no lifetime; the newest row is the last renewal, so its lifetime then reads 0.
  |> sort(columns: ["_time"])
  |> last(column: "renewed_count")
  |> map(fn: (r) => ({
    _time: r._time,
    domain: r.domain,
    host: r.host,
    age_days: float(v: int(v: queryTime) - int(v: r._time)) / 86400000000000.0,
    lifetime_days: if exists r.lifetime then float(v: r.lifetime) / 86400.0 else 0.0,
  }))
  |> group()
  |> sort(columns: ["age_days", "domain", "host"], desc: true)
