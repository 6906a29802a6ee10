// Alert query: how many cert_expiry rows each Telegraf host (the host tag Telegraf adds)
// wrote in the window, one table per host.
//
// Answers, for kapacitor/cert_deadman.tick: "is every host still reporting?" A host with no
// rows has no table at all; the task's deadman notices the missing output.
//
// Runs on InfluxDB 1.8 (Flux 0.65) and newer. `make dashboards` copies this file into the
// TICKscript's queryFlux; edit it here.
//
// Parameters:
//   bucket  "database/retention-policy" on InfluxDB 1.x, bucket name on 2.x
//   start   window to count; longer than the Telegraf interval (negative duration)
bucket = "telegraf/autogen"
start = -5m

from(bucket: bucket)
  |> range(start: start)
  |> filter(fn: (r) => r._measurement == "cert_expiry" and r._field == "status_code")
  |> group(columns: ["host"])
  |> count()
  |> rename(columns: {_value: "rows"})
  // Kapacitor stamps each point with the _time column: use the end of the window.
  |> duplicate(column: "_stop", as: "_time")
  |> keep(columns: ["_time", "host", "rows"])
