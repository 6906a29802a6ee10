// Alert query: the latest expiry reading of every probe, one table per probe (source,
// namespace, pod, address, port, domain: the alert's tags), with expiry and lifetime
// (seconds), days_left, hours_left, lifetime_days, lifetime_hours and status as fields.
//
// Answers, for kapacitor/cert_expiry.tick: "how long until each backend's certificate
// expires, and how long was it issued for?" The rule (relative to the lifetime, or fixed
// days) is the task's lambdas, not here: see kapacitor/README.md. Failed probes carry no
// expiry field and have no row (cert_status.flux covers them); every row with expiry has
// lifetime too.
//
// Runs on InfluxDB 1.8 (Flux 0.65) and newer. `make dashboards` copies this file into the
// TICKscript's queryFlux; edit it here.
//
// Parameters:
//   bucket  "database/retention-policy" on InfluxDB 1.x, bucket name on 2.x
//   start   how far back to look for a probe's latest reading; a little more than the
//           Telegraf interval (negative duration)
bucket = "telegraf/autogen"
start = -5m

from(bucket: bucket)
  |> range(start: start)
  |> filter(fn: (r) => r._measurement == "cert_expiry" and (r._field == "expiry" or r._field == "lifetime"))
  // One row per reading, expiry and lifetime side by side.
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  // The status tag is not part of a probe's identity: drop it from the group key so that a
  // status change keeps the probe in one alert, then take the newest row.
  |> group(columns: ["source", "namespace", "pod", "address", "port", "domain"])
  |> sort(columns: ["_time"])
  |> last(column: "expiry")
  |> map(fn: (r) => ({r with
    days_left: float(v: r.expiry) / 86400.0,
    hours_left: float(v: r.expiry) / 3600.0,
    lifetime_days: float(v: r.lifetime) / 86400.0,
    lifetime_hours: float(v: r.lifetime) / 3600.0,
  }))
  |> keep(columns: ["_time", "source", "namespace", "pod", "address", "port", "domain", "status", "expiry", "lifetime", "days_left", "hours_left", "lifetime_days", "lifetime_hours"])
