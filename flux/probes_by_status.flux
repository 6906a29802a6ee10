// Probes by status: how many probes (target × port × domain) currently report each status —
// valid, expired, not_yet_valid, not_found, unreachable, handshake_failed, timeout.
//
// Answers: "is anything not valid right now, and what kind of failure is it?" Anything but
// valid deserves a look; kapacitor/status.tick alerts on it per probe.
//
// Runs on InfluxDB 1.8 (Flux 0.65) and newer. Data: cert_expiry's status_code field, which
// every row carries, failures included. Each probe counts once, with its latest status: the
// status tag is part of the series key, so grouping by it before last() would count a probe
// that changed status inside the window once per status.
//
// Parameters:
//   bucket  "database/retention-policy" on InfluxDB 1.x, bucket name on 2.x
//   start   how far back to look for a probe's latest reading; a little more than the
//           Telegraf interval (negative duration)
bucket = "telegraf/autogen"
start = -10m

from(bucket: bucket)
  |> range(start: start)
  |> filter(fn: (r) => r._measurement == "cert_expiry" and r._field == "status_code")
  |> group(columns: ["source", "namespace", "pod", "address", "port", "domain"])
  // Merging the per-status series leaves rows in series order: sort so last() is the newest.
  |> sort(columns: ["_time"])
  |> last()
  |> group(columns: ["status"])
  |> count()
  |> rename(columns: {_value: "probes"})
  |> group()
  |> sort(columns: ["status"])
