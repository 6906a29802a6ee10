package main

import (
	"fmt"
	"strings"
)

// Chronograf dashboard with InfluxQL cells, for InfluxDB 1.x without Flux (1.6, 1.7, or 1.8
// with Flux disabled). Its queries live here, not in a file of their own: InfluxQL has no
// parameters, so each is built from the database and retention policy template variables.

// InfluxQL template variables: free-text boxes Chronograf substitutes as typed, inside the
// double quotes of the FROM clause.
const (
	influxqlDBVar = ":db:"
	influxqlRPVar = ":rp:"
)

// influxqlFrom is the fully qualified measurement, read through the template variables.
func influxqlFrom(measurement string) string {
	return fmt.Sprintf(`"%s"."%s"."%s"`, influxqlDBVar, influxqlRPVar, measurement)
}

// probeIdentity is what makes one probe: its latest reading is the newest row of this group.
const probeIdentity = `GROUP BY "source", "namespace", "pod", "address", "port", "domain"`

// currentWindow is how far back the current-state cells look, as the Flux cells do.
const currentWindow = "10m"

// statuses are the plugin's statuses in status_code order (plugin/README.md, Metrics).
var statuses = []string{"valid", "expired", "not_yet_valid", "not_found", "unreachable", "handshake_failed", "timeout"}

// soonestQuery: each probe's latest certificate reading, days left and lifetime in days (the
// table sorts by days_left). Failed probes carry no expiry and are left out, as in the Flux
// cell; the probes-by-status cell counts them.
func soonestQuery() string {
	return `SELECT last("expiry") / 86400 AS "days_left", "lifetime" / 86400 AS "lifetime_days", "status" FROM ` +
		influxqlFrom("cert_expiry") + ` WHERE time > now() - ` + currentWindow + ` ` + probeIdentity
}

// statusQuery: how many probes have each status in their latest reading, one column per
// status. InfluxQL cannot group by a value it selected, so each status is a subquery over
// the probes' latest status_code; a probe whose status changed within the window counts once,
// under its newest status.
func statusQuery() string {
	latest := `SELECT last("status_code") AS "code" FROM ` + influxqlFrom("cert_expiry") +
		` WHERE time > now() - ` + currentWindow + ` ` + probeIdentity
	counts := make([]string, len(statuses))
	subs := make([]string, len(statuses))
	for code, s := range statuses {
		counts[code] = fmt.Sprintf(`count("%s") AS "%s"`, s, s)
		subs[code] = fmt.Sprintf(`(SELECT "code" AS "%s" FROM (%s) WHERE "code" = %d)`, s, latest, code)
	}
	return "SELECT " + strings.Join(counts, ", ") + " FROM " + strings.Join(subs, ", ") + " fill(0)"
}

// renewalQuery: the last renewal per (domain, host) from the certbot deploy hook, with the
// lifetime of the certificate it installed (absent when the hook sent none). The row's time is
// the renewal's: InfluxQL cannot subtract it from now(), so the table shows when, not how long
// ago.
func renewalQuery() string {
	return `SELECT last("renewed_count") AS "renewed_count", "lifetime" / 86400 AS "lifetime_days", "not_after" FROM ` +
		influxqlFrom("certbot_renewal") + ` WHERE time > now() - 180d AND "domain" != 'all' GROUP BY "domain", "host"`
}

// influxqlCell is one cell of the InfluxQL dashboard.
type influxqlCell struct {
	Name, Query, Note string
	SortBy            string // column the table sorts by
	X, Y, W, H        int
}

var influxqlCells = []influxqlCell{
	{
		Name: "Soonest-expiring certificates", Query: soonestQuery(), SortBy: "days_left",
		Note: "No cert_expiry readings in the last 10 minutes: is the certexpiry input running, and are :db: and :rp: right?",
		X:    0, Y: 0, W: 8, H: 5,
	},
	{
		Name: "Probes by status", Query: statusQuery(),
		Note: "No cert_expiry readings in the last 10 minutes: is the certexpiry input running, and are :db: and :rp: right?",
		X:    8, Y: 0, W: 4, H: 5,
	},
	{
		Name: "Last renewal per domain and host", Query: renewalQuery(), SortBy: "time",
		Note: "No certbot_renewal rows in the last 180 days: is the deploy hook installed?",
		X:    0, Y: 5, W: 12, H: 4,
	},
}

// influxqlDashboardName is its title in Chronograf.
const influxqlDashboardName = "Certificates: expiry and renewals (InfluxQL)"

// chronografInfluxQLDashboard builds the export.
func chronografInfluxQLDashboard() cgFile {
	f := cgFile{
		Meta: cgMeta{
			ChronografVersion: "1.10.0",
			Sources:           map[string]cgSource{"1": {Name: "InfluxDB 1.x", Link: chronografSource}},
		},
		Dashboard: cgDashboard{
			Templates: []cgTemplate{
				textTemplate(influxqlDBVar, "telegraf", "database"),
				textTemplate(influxqlRPVar, "autogen", "retention policy"),
			},
			Name: influxqlDashboardName, Organization: "default",
		},
	}
	for _, c := range influxqlCells {
		cc := chronografCell(c.Name, c.Note, c.Query, "influxql", c.X, c.Y, c.W, c.H)
		cc.Type = "table"
		cc.TableOptions.SortBy = cgField{InternalName: c.SortBy, Visible: true}
		f.Dashboard.Cells = append(f.Dashboard.Cells, cc)
	}
	return f
}
