package main

// cellKind is how a cell shows its query.
type cellKind int

const (
	kindTable cellKind = iota // one row per result row
	kindBars                  // a time series per group, as bars per day
)

// cell is one dashboard cell, built from one query file. Every target (InfluxDB 2,
// Chronograf) places it on the same 12-column grid.
type cell struct {
	Name string
	File string // below the repository root
	Kind cellKind
	// Note is shown when the query returns nothing.
	Note string
	// UsesTimeRange: the query's start/stop parameters follow the dashboard's time range;
	// the others look at a fixed window of their own (latest readings, last renewal).
	UsesTimeRange bool
	X, Y, W, H    int
}

// dashboardName is the title of the dashboard in every target.
const dashboardName = "Certificates: renewals and expiry"

// dashboardDescription says where it comes from.
const dashboardDescription = "cert_expiry (certexpiry Telegraf input) and certbot_renewal (certbot deploy hook); generated from flux/*.flux by make dashboards"

// cells is the dashboard, top to bottom.
var cells = []cell{
	{
		Name: "Overdue renewals", File: "flux/overdue_renewals.flux", Kind: kindTable,
		Note: "No overdue renewals: every certificate was renewed before only a quarter of its lifetime was left (a third under 10 days).",
		X:    0, Y: 0, W: 6, H: 4,
	},
	{
		Name: "Renewal age per domain and host", File: "flux/renewal_age.flux", Kind: kindTable,
		Note: "No certbot_renewal rows: is the deploy hook installed?",
		X:    6, Y: 0, W: 6, H: 4,
	},
	{
		Name: "Renewals per host per day", File: "flux/renewals_per_host.flux", Kind: kindBars,
		Note:          "No renewals in this time range.",
		UsesTimeRange: true,
		X:             0, Y: 4, W: 12, H: 3,
	},
	{
		Name: "Soonest-expiring certificates", File: "flux/expiry_soonest.flux", Kind: kindTable,
		Note: "No cert_expiry readings in the last 10 minutes: is the certexpiry input running?",
		X:    0, Y: 7, W: 8, H: 4,
	},
	{
		Name: "Probes by status", File: "flux/probes_by_status.flux", Kind: kindTable,
		Note: "No cert_expiry readings in the last 10 minutes: is the certexpiry input running?",
		X:    8, Y: 7, W: 4, H: 4,
	},
	{
		Name: "Bad replicas: pods serving a different certificate than their siblings", File: "flux/bad_replicas.flux", Kind: kindTable,
		Note: "Every pod serves the same certificate as its siblings.",
		X:    0, Y: 11, W: 12, H: 3,
	},
	{
		Name: "Served vs renewed: backends still serving a replaced certificate", File: "flux/stale_certificates.flux", Kind: kindTable,
		Note: "Every backend serves the newest stored certificate for its domain (or it was stored less than the grace period ago).",
		X:    0, Y: 14, W: 12, H: 3,
	},
}

// params are the parameter values a target sets in every query: bucket is the target's
// way of naming the data; start/stop follow the dashboard's time range where the cell
// says so.
func (c cell) params(bucket string) map[string]string {
	p := map[string]string{"bucket": bucket}
	if c.UsesTimeRange {
		p["start"] = "v.timeRangeStart"
		p["stop"] = "v.timeRangeStop"
	}
	return p
}
