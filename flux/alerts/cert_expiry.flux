// Alert query: the latest expiry reading of every probe, one table per probe (source,
// namespace, pod, address, port, domain: the alert's tags), with expiry (seconds),
// days_left and status as fields.
//
// Answers, for kapacitor/cert_expiry.tick: "how long until each backend's certificate
// expires?" The warn / crit thresholds are the task's variables, not here. Failed probes carry
// no expiry field and have no row (cert_status.flux covers them).
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
  |> filter(fn: (r) => r._measurement == "cert_expiry" and r._field == "expiry")
  // The status tag is not part of a probe's identity: drop it from the group key so that a
  // status change keeps the probe in one alert, then take the newest row.
  |> group(columns: ["source", "namespace", "pod", "address", "port", "domain"])
  |> sort(columns: ["_time"])
  |> last()
  |> map(fn: (r) => ({r with days_left: float(v: r._value) / 86400.0}))
  |> rename(columns: {_value: "expiry"})
  |> keep(columns: ["_time", "source", "namespace", "pod", "address", "port", "domain", "status", "expiry", "days_left"])
