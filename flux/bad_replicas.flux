// Bad replicas: pods (or static hosts) whose certificate differs from their siblings' for the
// same domain — "one bad replica" behind a load balancer that a public probe may never reach.
//
// Answers: "in which namespace does some pod serve a different certificate for a domain than
// the other pods, and which pods are they?" For every (namespace, domain, port) where the
// pods' latest certificates (SHA-256 fingerprints) are not all the same, one row per distinct
// certificate: its fingerprint, the pods serving it (space-separated), how many they are
// (sharing), how many pods answered (replicas) and how many different certificates they serve
// (certificates). Sorted by sharing, so the odd one out comes first; on a tie (2 vs 2) no
// certificate is "the" odd one. Groups where all pods agree are not listed. Static targets
// (no pod, no namespace) are compared with the other static targets for the same domain and
// port, each named by its address in the pods column.
//
// Runs on InfluxDB 1.8 (Flux 0.65) and newer. Data: cert_expiry's fingerprint_sha256 field;
// probes that got no certificate carry no fingerprint and are left out (probes_by_status.flux
// shows them). The status tag is dropped before last(), so a pod whose status changed inside
// the window counts once; a pod is one backend whatever its addresses (dual-stack).
//
// Cost: the pods are folded into one row per certificate with reduce() before the only
// join, which then pairs a few rows per group. Joining the pods themselves (10,000 probes)
// took InfluxDB 1.8 more than a minute; see BENCHMARKS.md.
//
// Parameters:
//   bucket  "database/retention-policy" on InfluxDB 1.x, bucket name on 2.x
//   start   how far back to look for a pod's latest reading; a little more than the Telegraf
//           interval, so that deleted pods drop out (negative duration)
bucket = "telegraf/autogen"
start = -10m

fingerprints = from(bucket: bucket)
  |> range(start: start)
  |> filter(fn: (r) => r._measurement == "cert_expiry" and r._field == "fingerprint_sha256")

// A backend is its pod, or for a static target its address. Static targets get namespace ""
// (join() never matches a null).
latest = union(tables: [
    fingerprints |> filter(fn: (r) => r.source == "kubernetes") |> duplicate(column: "pod", as: "backend"),
    fingerprints |> filter(fn: (r) => r.source != "kubernetes") |> duplicate(column: "address", as: "backend") |> set(key: "namespace", value: ""),
  ])
  |> group(columns: ["namespace", "backend", "port", "domain"])
  |> sort(columns: ["_time"])
  |> last()
  |> rename(columns: {_value: "fingerprint"})

// One row per distinct certificate of a (namespace, domain, port), with its pods.
certificates = latest
  |> group(columns: ["namespace", "domain", "port", "fingerprint"])
  |> sort(columns: ["backend"])
  |> reduce(identity: {pods: "", sharing: 0}, fn: (r, accumulator) => ({
    pods: if accumulator.pods == "" then r.backend else accumulator.pods + " " + r.backend,
    sharing: accumulator.sharing + 1,
  }))
  // Static targets' tables got namespace as their last column; join() pairs tables by group
  // key in column order, so rebuild every row in one order (cheap: one row per certificate).
  |> group()
  |> map(fn: (r) => ({namespace: r.namespace, domain: r.domain, port: r.port, fingerprint: r.fingerprint, pods: r.pods, sharing: r.sharing}))
  |> group(columns: ["namespace", "domain", "port"])

// The (namespace, domain, port) groups whose pods serve more than one certificate.
disagreeing = certificates
  |> reduce(identity: {replicas: 0, certificates: 0}, fn: (r, accumulator) => ({
    replicas: accumulator.replicas + r.sharing,
    certificates: accumulator.certificates + 1,
  }))
  |> filter(fn: (r) => r.certificates > 1)

join(tables: {certificates: certificates, groups: disagreeing}, on: ["namespace", "domain", "port"])
  |> group()
  |> sort(columns: ["namespace", "domain", "port", "sharing", "fingerprint"])
