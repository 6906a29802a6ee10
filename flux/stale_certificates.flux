// Stale certificates: backends still serving a certificate older than one already renewed —
// "renewed, but never reloaded" (nginx, HAProxy, Postfix read certificates once; a pod keeps a
// mounted Secret's old certificate until restarted, and a subPath mount never updates).
//
// Answers: "which pod or host serves a certificate for a domain whose renewal has been on disk
// (or in cert-manager) for longer than the grace period?" One row per served (namespace, pod,
// address, port, domain) whose latest reading's not_after is earlier than the newest stored
// certificate for that domain, counting only stored certificates first reported more than
// `grace` ago. One table per backend (its identity is the group key, as alert tags); columns:
// namespace and pod (Kubernetes targets) or address, port, domain, served_not_after and
// stored_not_after (times), source of the stored certificate ("certbot", "file",
// "cert-manager"), stored_domain (the name it was stored under: the same domain, or the
// wildcard covering it), appeared (when that certificate was first reported), stale, and
// _time (the backend's latest reading).
//
// Stored certificates come from three measurements, all keyed by domain and compared by
// not_after: certbot_renewal (the deploy hook; the renewal's time is when it appeared),
// cert_file (the files option; first gather that read it) and certmanager_certificate
// (first gather that saw the Certificate's status). A wildcard name covers exactly one label:
// "*.example.com" covers "www.example.com", not "example.com" nor "a.b.example.com".
//
// Runs on InfluxDB 1.8 (Flux 0.65) and newer. Cost: the first report of a stored
// certificate is found by scanning `lookback` of cert_file and certmanager_certificate rows
// (one per gather and name).
//
// Parameters:
//   bucket    "database/retention-policy" on InfluxDB 1.x, bucket name on 2.x
//   start     how far back to look for a backend's latest reading; a little more than the
//             Telegraf interval, so that deleted pods drop out (negative duration)
//   lookback  how far back to look for stored certificates; longer than a renewal
//             interval (negative duration)
//   grace     how long a stored certificate may be known before a backend must serve it
//             (Secret propagation, rolling restarts, reload timers)
//   onlyStale true: list stale backends only; false: every backend, with stale true or
//             false (kapacitor/stale_certificate.tick, so that its alerts recover)
import "strings"

bucket = "telegraf/autogen"
start = -10m
lookback = -90d
grace = 1h
onlyStale = true

cutoff = time(v: int(v: now()) - int(v: grace))

// The stored certificates' not_after per domain, with the source each row came from.
storedFrom = (measurement, source) => from(bucket: bucket)
  |> range(start: lookback)
  |> filter(fn: (r) => r._measurement == measurement and r._field == "not_after" and r.domain != "all")
  |> keep(columns: ["_time", "_value", "domain"])
  |> map(fn: (r) => ({r with source: source}))

// Each distinct stored certificate (domain, not_after) once, at its first report; then, per
// domain, the newest of those first reported before the cutoff.
stored = union(tables: [
    storedFrom(measurement: "certbot_renewal", source: "certbot"),
    storedFrom(measurement: "cert_file", source: "file"),
    storedFrom(measurement: "certmanager_certificate", source: "cert-manager"),
  ])
  |> group(columns: ["domain", "_value"])
  |> sort(columns: ["_time"])
  |> first()
  |> filter(fn: (r) => r._time <= cutoff)
  |> group(columns: ["domain"])
  |> sort(columns: ["_value"])
  |> last()
  |> map(fn: (r) => ({key: r.domain, stored_domain: r.domain, stored_not_after: time(v: r._value * 1000000000), source: r.source, appeared: r._time}))
  |> group()

// Every backend's latest reading (its not_after as a time), under two keys: its domain, and
// the wildcard that would cover it ("*." + the domain without its first label).
served = from(bucket: bucket)
  |> range(start: start)
  |> filter(fn: (r) => r._measurement == "cert_expiry" and r._field == "not_after")
  |> group(columns: ["namespace", "pod", "address", "port", "domain"])
  |> sort(columns: ["_time"])
  |> last()
  |> group()
  |> map(fn: (r) => ({r with served_not_after: time(v: r._value * 1000000000), dot: strings.index(v: r.domain, substr: ".")}))

servedKeys = union(tables: [
    served |> map(fn: (r) => ({r with key: r.domain})),
    served
      |> filter(fn: (r) => r.dot > 0)
      |> map(fn: (r) => ({r with key: "*" + strings.substring(v: r.domain, start: r.dot, end: strings.strlen(v: r.domain))})),
  ])
  |> keep(columns: ["_time", "namespace", "pod", "address", "port", "domain", "key", "served_not_after"])

columns = ["_time", "namespace", "pod", "address", "port", "domain", "served_not_after", "stored_not_after", "source", "stored_domain", "appeared", "stale"]

stale = join(tables: {served: servedKeys, stored: stored}, on: ["key"])
  |> filter(fn: (r) => r.served_not_after < r.stored_not_after)
  |> map(fn: (r) => ({r with stale: true}))
  |> keep(columns: columns)

// Every backend once more, not stale, so that an alert on this query recovers: its stored
// columns repeat what it serves.
current = served
  |> map(fn: (r) => ({r with stored_not_after: r.served_not_after, source: "", stored_domain: "", appeared: r._time, stale: false}))
  |> keep(columns: columns)

// One row per backend: stale, with the newest stored certificate (a backend covered by its
// own name and by a wildcard counts the newer), else its current reading.
union(tables: [stale, current])
  |> group(columns: ["namespace", "pod", "address", "port", "domain"])
  |> sort(columns: ["stale", "stored_not_after"])
  |> last(column: "stored_not_after")
  |> filter(fn: (r) => r.stale or not onlyStale)
