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
// Parameters:
//   bucket  "database/retention-policy" on InfluxDB 1.x, bucket name on 2.x
//   start   how far back to look for a probe's latest reading; a little more than the
//           Telegraf interval, so that pods that went away drop out (negative duration)
//   limitN how many rows to show
bucket = "telegraf/autogen"
start = -10m
limitN = 20

from(bucket: bucket)
  |> range(start: start)
  |> filter(fn: (r) => r._measurement == "cert_expiry" and r._field == "expiry")
  |> group(columns: ["source", "namespace", "pod", "address", "port", "domain"])
  // Merging the per-status series leaves rows in series order: sort so last() is the newest.
  |> sort(columns: ["_time"])
  |> last()
  |> map(fn: (r) => ({r with days_left: float(v: r._value) / 86400.0}))
  |> keep(columns: ["_time", "source", "namespace", "pod", "address", "port", "domain", "status", "days_left"])
  |> group()
  |> sort(columns: ["days_left", "namespace", "pod", "address", "port", "domain"])
  |> limit(n: limitN)
