// Overdue certificate renewals: one row per (domain, host) with the time since its last
// successful renewal, the time its certificate has left, and whether the renewal is overdue.
//
// Answers: "which certificates should have been renewed by now and were not?" — whether
// certbot ran and failed or never ran at all, because it looks for the prolonged absence of a
// positive report from the deploy hook (measurement certbot_renewal).
//
// Runs on InfluxDB 1.8 (Flux 0.65) and newer. The Kapacitor task
// kapacitor/missed_renewal.tick embeds this query with onlyOverdue = false, so that a
// renewal produces a recovery.
//
// The rule, for a certificate of lifetime L (field lifetime of the last renewal):
//   - renewal is due with L/3 of the lifetime left, L/2 when L is under 10 days (certbot ≥ 4.0,
//     Let's Encrypt's ARI window, cert-manager's renewalTime agree);
//   - the slack after the due point is half the way from there to L/6 left: L/12 (L/6 when L
//     is under 10 days). That is 16.7 days for 200-day certificates, 2.5 days at 30 days and
//     26.7 hours for Let's Encrypt's 160-hour ones: always more than the 12 hours certbot's
//     twice-daily timer may wait, plus Let's Encrypt's ARI spread (±L/100);
//   - so the renewal is overdue once the certificate has L/4 or less left (L/3 under 10 days),
//     measured to the second from the last renewal's not_after, which leaves L/12 (L/6) of
//     the lifetime before the last sixth begins.
// First alert, counted from the certificate's notBefore:
//     160 hours  due at hour 80,   overdue from hour 106h40m (53h20m left)
//     45 days    due at day 30,    overdue from day 33d18h   (11d6h left)
//     64 days    due at day 42d16h, overdue from day 48      (16 days left)
//     90 days    due at day 60,    overdue from day 67d12h   (22d12h left)
//     200 days   due at day 133d8h, overdue from day 150     (50 days left)
// Let's Encrypt's lifetimes are one second short of the nominal one (90 days − 1 s): such a
// certificate is overdue less than a second earlier. TestFluxLifetimesOnInfluxDB18
// (test/alerting) pins the hour of each row on InfluxDB 1.8.3, and shows that healthy
// histories (160-hour certificates renewed every 80 hours, 90-day ones at day 60) never read
// overdue.
//
// Fallback: when the last renewal carries no lifetime or not_after (a hook that does not
// send them, such as certbot hooks that write renewed_count only), the renewal is overdue
// fallbackDays after it was reported (62 days: right for 90-day certificates only).
//
// A (domain, host) appears only while its last renewal lies inside the lookback: keep lookback
// longer than your longest certificate lifetime plus the time an alert should stay visible
// (the default 250 days: 200-day certificates plus 50), and the retention policy at least
// that long. A certificate first issued is not overdue
// before its own rule says so (no alert for a new certificate).
//
// Columns: domain, host (the group key), overdue (bool); hours_since_renewal, hours_left,
// lifetime_hours, alert_after_hours (float hours; hours_left is 0 and lifetime_hours 0 when
// the lifetime is unknown; alert_after_hours is the time after the renewal at which it is
// overdue); and the same as text in units that fit the lifetime — hours ("93h") for
// certificates under 10 days, days and hours ("33d 18h") otherwise: since_renewal, left,
// alert_after, lifetime ("160h", "90d", "unknown"). _time is the time of the query.
//
// Parameters:
//   bucket        "database/retention-policy" on InfluxDB 1.x, bucket name on 2.x
//   lookback      how far back to look for the last renewal (negative duration)
//   fallbackDays  days after a renewal without a lifetime before it is overdue
//   onlyOverdue   true: overdue rows only (dashboard list); false: every certificate (alerting)
bucket = "telegraf/autogen"
lookback = -250d
fallbackDays = 62.0
onlyOverdue = true

queryTime = now()
nowNs = int(v: queryTime)

// A number of hours as text in units that fit the lifetime: "93h" when short, else "33d 18h".
// Whole hours, truncated toward zero; negative values (expired) keep their sign.
hoursText = (hours, short) => {
  h = int(v: if hours < 0.0 then 0.0 - hours else hours)
  sign = if hours <= -1.0 then "-" else ""
  return if short then sign + string(v: h) + "h" else sign + string(v: h / 24) + "d " + string(v: h - h / 24 * 24) + "h"
}

from(bucket: bucket)
  |> range(start: lookback)
  |> filter(fn: (r) => r._measurement == "certbot_renewal" and r.domain != "all")
  |> filter(fn: (r) => r._field == "renewed_count" or r._field == "lifetime" or r._field == "not_after")
  // One row per renewal, with renewed_count and (when the hook sent them) lifetime, not_after.
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group(columns: ["domain", "host"])
  |> sort(columns: ["_time"])
  |> last(column: "renewed_count")
  |> map(fn: (r) => {
    known = exists r.lifetime and exists r.not_after
    // int() and float() accept a column the table lacks (a hook without lifetime); plain
    // arithmetic on it would make Flux 0.65 demand the column in every table.
    lifetimeS = if known then int(v: r.lifetime) else 0
    notAfterS = if known then int(v: r.not_after) else 0
    lifetimeHours = float(v: lifetimeS) / 3600.0
    short = known and lifetimeHours < 240.0
    sinceNs = nowNs - int(v: r._time)
    leftNs = if known then notAfterS * 1000000000 - nowNs else 0
    // Overdue with alertLeft or less left: L/4, or L/3 under 10 days.
    alertLeftNs = if short then lifetimeS * 1000000000 / 3 else lifetimeS * 1000000000 / 4
    alertAfterNs = if known then sinceNs + leftNs - alertLeftNs else int(v: fallbackDays * 86400000000000.0)
    return {
      _time: queryTime,
      domain: r.domain,
      host: r.host,
      overdue: sinceNs >= alertAfterNs,
      hours_since_renewal: float(v: sinceNs) / 3600000000000.0,
      hours_left: float(v: leftNs) / 3600000000000.0,
      lifetime_hours: lifetimeHours,
      alert_after_hours: float(v: alertAfterNs) / 3600000000000.0,
      since_renewal: hoursText(hours: float(v: sinceNs) / 3600000000000.0, short: short),
      left: if known then hoursText(hours: float(v: leftNs) / 3600000000000.0, short: short) else "unknown",
      alert_after: hoursText(hours: float(v: alertAfterNs) / 3600000000000.0, short: short),
      lifetime: if not known then "unknown" else if short then string(v: int(v: lifetimeHours + 0.5)) + "h" else string(v: int(v: lifetimeHours / 24.0 + 0.5)) + "d",
    }
  })
  |> filter(fn: (r) => r.overdue or not onlyOverdue)
