// Alert query: the latest reading of every probe, one table per probe (source, namespace,
// pod, address, port, domain: the alert's tags), with status_code, status, verified and
// verification_error as fields.
//
// Answers, for kapacitor/cert_status.tick: "is each probe valid right now, and if not, what
// is wrong? And does a valid certificate's chain verify?" Every cert_expiry row carries
// status_code, failed probes included; verified and verification_error are there when the
// server sent a certificate, and null (absent) otherwise.
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
  |> filter(fn: (r) => r._measurement == "cert_expiry")
  |> filter(fn: (r) => r._field == "status_code" or r._field == "verified" or r._field == "verification_error")
  // One row per reading, its fields side by side (they differ in type, so they cannot share
  // a column before this).
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  // The status tag is not part of a probe's identity: drop it from the group key so that a
  // status change keeps the probe in one alert (and recovers it), then take the newest row.
  |> group(columns: ["source", "namespace", "pod", "address", "port", "domain"])
  |> sort(columns: ["_time"])
  |> last(column: "status_code")
  |> keep(columns: ["_time", "source", "namespace", "pod", "address", "port", "domain", "status", "status_code", "verified", "verification_error"])
