// Renewals per host per day: the number of certificates each host renewed on each UTC day,
// with 0 on days without renewals — the graph of the article "Tracking and Alerting on
// LetsEncrypt Certificate Renewals With InfluxDB and Kapacitor". A host whose line stays at 0
// for longer than its usual renewal interval has stopped renewing everything (certbot timer
// disabled, host gone), which the per-domain view hides among many domains.
//
// Runs on InfluxDB 1.8 (Flux 0.65) and newer. Data: the hook's per-run total row of
// certbot_renewal (domain "all", renewed_count = number of certificates renewed in that run).
//
// Unlike that article's query, days without renewals are 0, not null (null left gaps in the
// graph, and no 0 to see). renewed_count is a float, as the article's hook wrote it and ours
// still does; toInt() makes the counts whole numbers and would accept an integer field as well.
//
// Parameters:
//   bucket  "database/retention-policy" on InfluxDB 1.x, bucket name on 2.x
//   start   beginning of the graph (negative duration or time); dashboards use their time range
//   stop    end of the graph
bucket = "telegraf/autogen"
start = -30d
stop = now()

from(bucket: bucket)
  |> range(start: start, stop: stop)
  |> filter(fn: (r) => r._measurement == "certbot_renewal" and r._field == "renewed_count" and r.domain == "all")
  |> toInt()
  |> group(columns: ["host"])
  |> aggregateWindow(every: 1d, fn: sum, createEmpty: true, timeSrc: "_start")
  |> fill(value: 0)
