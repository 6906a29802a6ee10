// Overdue certificate renewals: one row per (domain, host) with the days since its last
// successful renewal, the threshold that applies to it, and whether it is overdue.
//
// Answers: "which certificates should have been renewed by now and were not?" — whether
// certbot ran and failed or never ran at all, because it looks for the prolonged absence of a
// positive report from the deploy hook (measurement certbot_renewal).
//
// Runs on InfluxDB 1.8 (Flux 0.65) and newer. The Kapacitor task
// kapacitor/missed_renewal.tick embeds this query with onlyOverdue = false, so that a
// renewal produces a recovery.
//
// The rule. Certbot renews a certificate when a third of its lifetime is left, i.e. at ⅔ of
// its lifetime (90-day certificates: day 60; 64-day: day 43; 45-day: day 30); it runs twice a
// day, so a healthy renewal is at most about a day late. A renewal is overdue when
//
//     days_since_renewal >= fraction × lifetime in days + slackDays
//
// with the lifetime reported by the hook for the last renewal (field lifetime, seconds).
// Defaults: fraction = 2/3, slackDays = 2, which fires on
//     day 62 for 90-day certificates (28 days before expiry; what the seed's fixed 61/62-day
//            threshold was aiming at),
//     day 45 for 64-day certificates (19 days before expiry),
//     day 32 for 45-day certificates (13 days before expiry; the fixed 62-day rule would
//            fire 17 days after this certificate expired).
// Let's Encrypt's lifetimes are one second short of whole days (90 days − 1 s); ">=" keeps
// such a certificate on the same day as an exact 90-day one.
// When the last renewal carries no lifetime (a hook that does not send it, such as the seed's),
// the fixed threshold fallbackDays applies (62: right for 90-day certificates only).
//
// Days are UTC calendar days. aggregateWindow(every: 1d, timeSrc: "_start") gives one row per
// UTC day, stamped at the day's start; stateDuration counts whole days since the first day
// without a renewal, so days_since_renewal = stateDuration + 1 is the number of UTC midnights
// since the last renewal: 0 on the day of the renewal, 1 the day after, … A midnight counts
// from the first instant after it (range() excludes its stop). So a 45-day certificate
// renewed on 1 March at any hour is overdue from 2 April 00:00:00.000000001 UTC; the test
// TestFluxOnInfluxDB18 (test/alerting) pins that day for 45-, 64- and 90-day certificates and
// the fallback, on InfluxDB 1.8.3. The seed used the default timeSrc (window stop), where
// the current, partial day is stamped "now" rather than midnight: its count then reads 0 on
// both the first and the second day after a renewal and lags the calendar by two days after
// that.
//
// A (domain, host) appears only while its last renewal lies inside the lookback: keep lookback
// longer than your longest certificate lifetime plus the time an alert should stay visible,
// and the retention policy at least that long. Certificates first issued less than the
// threshold ago are not overdue (no alert for a new certificate).
//
// Parameters:
//   bucket        "database/retention-policy" on InfluxDB 1.x, bucket name on 2.x
//   lookback      how far back to look for the last renewal (negative duration)
//   fraction      share of the lifetime after which a renewal is due
//   slackDays     days of grace after that before it is overdue
//   fallbackDays  threshold in days when the lifetime is unknown
//   onlyOverdue   true: overdue rows only (dashboard list); false: every certificate (alerting)
bucket = "telegraf/autogen"
lookback = -180d
fraction = 2.0 / 3.0
slackDays = 2.0
fallbackDays = 62.0
onlyOverdue = true

from(bucket: bucket)
  |> range(start: lookback)
  |> filter(fn: (r) => r._measurement == "certbot_renewal" and r.domain != "all")
  |> filter(fn: (r) => r._field == "renewed_count" or r._field == "lifetime")
  // One row per renewal, with renewed_count and (when the hook sent it) lifetime.
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group(columns: ["domain", "host"])
  // Renewal marker carrying the lifetime: 1 + lifetime in seconds (1 when the lifetime is
  // unknown). Any renewal makes it >= 1; an empty day is 0 after fill.
  |> map(fn: (r) => ({r with _value: 1.0 + (if exists r.lifetime then float(v: r.lifetime) else 0.0)}))
  |> aggregateWindow(every: 1d, fn: mean, createEmpty: true, timeSrc: "_start")
  // Carry the last renewal's marker forward, then mark days without a renewal as 0.
  |> duplicate(column: "_value", as: "last_marker")
  |> fill(column: "last_marker", usePrevious: true)
  |> fill(value: 0.0)
  |> stateDuration(fn: (r) => r._value < 1.0, column: "days_without", unit: 1d)
  |> last()
  |> map(fn: (r) => {
    lifetimeDays = (r.last_marker - 1.0) / 86400.0
    thresholdDays = if lifetimeDays > 0.0 then fraction * lifetimeDays + slackDays else fallbackDays
    daysSinceRenewal = r.days_without + 1
    return {
      _time: r._time,
      domain: r.domain,
      host: r.host,
      days_since_renewal: daysSinceRenewal,
      lifetime_days: lifetimeDays,
      threshold_days: thresholdDays,
      overdue: float(v: daysSinceRenewal) >= thresholdDays,
    }
  })
  |> filter(fn: (r) => r.overdue or not onlyOverdue)
