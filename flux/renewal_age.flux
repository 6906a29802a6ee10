// Renewal age: one row per (domain, host) with the time of its last successful renewal, how
// long ago that was, and the lifetime of the certificate it installed — a "domains and the
// time since last renewal" table, oldest renewal first.
//
// Answers: "when did each certificate last renew, and on which host?" The same domain renewed
// on two hosts is two rows.
//
// Runs on InfluxDB 1.8 (Flux 0.65) and newer. Data: measurement certbot_renewal written by
// the deploy hook (`telegraf-certexpiry certbot-hook`); the per-run total row (domain "all")
// is left out. age_hours is the time since the renewal in hours; since_renewal and lifetime
// say the same in units that fit the lifetime: hours ("93h", "160h") for certificates under
// 10 days, days and hours ("58d 7h", "90d") otherwise. lifetime_hours is 0 and lifetime
// "unknown" when the hook did not send a lifetime.
//
// Ages are computed from integer nanoseconds, converted to float before dividing, so they
// keep sub-second precision.
//
// Parameters:
//   bucket    "database/retention-policy" on InfluxDB 1.x, bucket name on 2.x
//   lookback  how far back to look; a certificate whose last renewal is older is not listed,
//             so keep it longer than your longest certificate lifetime (negative duration)
bucket = "telegraf/autogen"
lookback = -180d

queryTime = now()

// A number of hours as text in units that fit the lifetime: "93h" when short, else "33d 18h".
// Whole hours, truncated toward zero (the same function as in overdue_renewals.flux).
hoursText = (hours, short) => {
  h = int(v: if hours < 0.0 then 0.0 - hours else hours)
  sign = if hours <= -1.0 then "-" else ""
  return if short then sign + string(v: h) + "h" else sign + string(v: h / 24) + "d " + string(v: h - h / 24 * 24) + "h"
}

from(bucket: bucket)
  |> range(start: lookback)
  |> filter(fn: (r) => r._measurement == "certbot_renewal" and r.domain != "all")
  |> filter(fn: (r) => r._field == "renewed_count" or r._field == "lifetime")
  |> group(columns: ["domain", "host", "_field"])
  |> last()
  // pivot merges the renewed_count and lifetime tables of a (domain, host) into one; they
  // cannot be regrouped first, as renewed_count is a float (as hooks have always sent it) and lifetime an
  // integer, and one column cannot hold both.
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  // The two last() rows come from different renewals only when the newest renewal carried
  // no lifetime; the newest row is the last renewal, so its lifetime then reads 0.
  |> sort(columns: ["_time"])
  |> last(column: "renewed_count")
  |> map(fn: (r) => {
    lifetimeHours = if exists r.lifetime then float(v: r.lifetime) / 3600.0 else 0.0
    short = lifetimeHours > 0.0 and lifetimeHours < 240.0
    ageHours = float(v: int(v: queryTime) - int(v: r._time)) / 3600000000000.0
    return {
      _time: r._time,
      domain: r.domain,
      host: r.host,
      age_hours: ageHours,
      since_renewal: hoursText(hours: ageHours, short: short),
      lifetime_hours: lifetimeHours,
      lifetime: if lifetimeHours <= 0.0 then "unknown" else if short then string(v: int(v: lifetimeHours + 0.5)) + "h" else string(v: int(v: lifetimeHours / 24.0 + 0.5)) + "d",
    }
  })
  |> group()
  |> sort(columns: ["age_hours", "domain", "host"], desc: true)
