// Soonest-expiring certificates: the latest reading of every probe (namespace, pod, address,
// port, domain) that received a certificate, soonest expiry first.
//
// Answers: "which backend serves the certificate that expires first?" — per pod, not per
// domain, so one replica still serving an old certificate stands out even when the load
// balancer mostly reaches renewed ones. Static targets have an empty namespace and pod.
//
// Runs on InfluxDB 1.8 (Flux 0.65) and newer. Data: cert_expiry from the certexpiry input;
// rows of failed probes carry no expiry field and are not listed here (see
// probes_by_status.flux). The status tag is dropped before last(), so a probe whose status
// changed inside the window is one row (its latest), not one per status.
//
// Columns: hours_left (float, hours until notAfter; negative once expired, sorted on), left
// and lifetime as text in units that fit the certificate's lifetime — hours ("53h", "160h")
// for certificates under 10 days, days and hours ("22d 12h", "90d") otherwise — and
// share_left, the part of its lifetime the certificate has left (0.25 at the alert's
// WARNING for lifetimes of 10 days and more, see kapacitor/README.md).
//
// Parameters:
//   bucket  "database/retention-policy" on InfluxDB 1.x, bucket name on 2.x
//   start   how far back to look for a probe's latest reading; a little more than the
//           Telegraf interval, so that pods that went away drop out (negative duration)
//   limitN how many rows to show
bucket = "telegraf/autogen"
start = -10m
limitN = 20

// A number of hours as text in units that fit the lifetime: "93h" when short, else "33d 18h".
// Whole hours, truncated toward zero (the same function as in overdue_renewals.flux).
hoursText = (hours, short) => {
  h = int(v: if hours < 0.0 then 0.0 - hours else hours)
  sign = if hours <= -1.0 then "-" else ""
  return if short then sign + string(v: h) + "h" else sign + string(v: h / 24) + "d " + string(v: h - h / 24 * 24) + "h"
}

from(bucket: bucket)
  |> range(start: start)
  |> filter(fn: (r) => r._measurement == "cert_expiry" and (r._field == "expiry" or r._field == "lifetime"))
  // One row per reading with expiry and lifetime side by side (both come with every
  // certificate the probe received).
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group(columns: ["source", "namespace", "pod", "address", "port", "domain"])
  // Merging the per-status series leaves rows in series order: sort so last() is the newest.
  |> sort(columns: ["_time"])
  |> last(column: "expiry")
  |> rename(columns: {lifetime: "lifetime_seconds"})
  |> map(fn: (r) => {
    hoursLeft = float(v: r.expiry) / 3600.0
    lifetimeHours = float(v: r.lifetime_seconds) / 3600.0
    short = lifetimeHours < 240.0
    return {r with
      hours_left: hoursLeft,
      left: hoursText(hours: hoursLeft, short: short),
      lifetime: if short then string(v: int(v: lifetimeHours + 0.5)) + "h" else string(v: int(v: lifetimeHours / 24.0 + 0.5)) + "d",
      share_left: if lifetimeHours > 0.0 then hoursLeft / lifetimeHours else 0.0,
    }
  })
  |> keep(columns: ["_time", "source", "namespace", "pod", "address", "port", "domain", "status", "hours_left", "left", "lifetime", "share_left"])
  |> group()
  |> sort(columns: ["hours_left", "namespace", "pod", "address", "port", "domain"])
  |> limit(n: limitN)
