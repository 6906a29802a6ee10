// Bad replicas: pods whose certificate differs from their siblings' for the same domain —
// "one bad replica" behind a load balancer that a public probe may never reach.
//
// Answers: "in which namespace does some pod serve a different certificate for a domain than
// the other pods, and which pod is it?" For every (namespace, domain, port) where the pods'
// latest certificates (SHA-256 fingerprints) are not all the same, one row per pod with its
// fingerprint, how many pods serve that same certificate (sharing) and how many pods answered
// (replicas). Sorted by sharing, so the odd one out comes first; on a tie (2 vs 2) every pod
// is listed and none is "the" odd one. Groups where all pods agree are not listed.
//
// Runs on InfluxDB 1.8 (Flux 0.65) and newer. Data: cert_expiry's fingerprint_sha256 field
// from Kubernetes targets (source "kubernetes"); probes that got no certificate carry no
// fingerprint and are left out (probes_by_status.flux shows them). The status tag is dropped
// before last(), so a pod whose status changed inside the window counts once.
//
// Parameters:
//   bucket  "database/retention-policy" on InfluxDB 1.x, bucket name on 2.x
//   start   how far back to look for a pod's latest reading; a little more than the Telegraf
//           interval, so that deleted pods drop out (negative duration)
bucket = "telegraf/autogen"
start = -10m

latest = from(bucket: bucket)
  |> range(start: start)
  |> filter(fn: (r) => r._measurement == "cert_expiry" and r._field == "fingerprint_sha256" and r.source == "kubernetes")
  |> group(columns: ["namespace", "pod", "port", "domain"])
  |> sort(columns: ["_time"])
  |> last()
  |> rename(columns: {_value: "fingerprint"})
  |> keep(columns: ["namespace", "pod", "port", "domain", "fingerprint"])

sharing = latest
  |> group(columns: ["namespace", "domain", "port", "fingerprint"])
  |> count(column: "pod")
  |> rename(columns: {pod: "sharing"})

replicas = latest
  |> group(columns: ["namespace", "domain", "port"])
  |> count(column: "pod")
  |> rename(columns: {pod: "replicas"})

counted = join(tables: {pods: latest, sharing: sharing}, on: ["namespace", "domain", "port", "fingerprint"])
  |> group(columns: ["namespace", "domain", "port"])

join(tables: {pods: counted, replicas: replicas}, on: ["namespace", "domain", "port"])
  |> filter(fn: (r) => r.sharing < r.replicas)
  |> group()
  |> sort(columns: ["namespace", "domain", "port", "sharing", "pod"])
