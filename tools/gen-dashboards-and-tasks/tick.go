package main

import (
	"fmt"
	"regexp"
	"strings"
)

// tickQuery is a TICKscript whose queryFlux body is a copy of a query file.
type tickQuery struct {
	Tick   string            // below the repository root
	File   string            // the query file copied into it
	Params map[string]string // parameter values that differ from the file's
}

// tickQueries are the queryFlux TICKscripts; their queries have one source of truth each.
var tickQueries = []tickQuery{
	// Alerting needs every certificate, overdue or not, so that a renewal recovers the alert.
	{Tick: "kapacitor/missed_renewal.tick", File: "flux/overdue_renewals.flux", Params: map[string]string{"onlyOverdue": "false"}},
	{Tick: "kapacitor/cert_expiry.tick", File: "flux/alerts/cert_expiry.flux"},
	{Tick: "kapacitor/cert_status.tick", File: "flux/alerts/cert_status.flux"},
	{Tick: "kapacitor/cert_deadman.tick", File: "flux/alerts/cert_deadman.flux"},
	// Every backend, stale or not, so that a reload recovers the alert.
	{Tick: "kapacitor/stale_certificate.tick", File: "flux/stale_certificates.flux", Params: map[string]string{"onlyStale": "false"}},
}

var queryFluxRE = regexp.MustCompile(`(?s)queryFlux\('''.*?'''\)`)

// embed returns the TICKscript with the body of its single queryFlux string replaced by the
// query.
func embed(tickRel, tick, query string) (string, error) {
	if strings.Contains(query, "'''") {
		return "", fmt.Errorf("%s: the query contains ''', which would end the TICKscript string", tickRel)
	}
	if n := len(queryFluxRE.FindAllStringIndex(tick, -1)); n != 1 {
		return "", fmt.Errorf("%s: want exactly one queryFlux('''…'''), found %d", tickRel, n)
	}
	if !strings.HasSuffix(query, "\n") {
		query += "\n"
	}
	return queryFluxRE.ReplaceAllLiteralString(tick, "queryFlux('''\n"+query+"''')"), nil
}

// tickScript renders one TICKscript.
func tickScript(root string, tq tickQuery) (string, error) {
	tick, err := loadQuery(root, tq.Tick)
	if err != nil {
		return "", err
	}
	q, err := loadQuery(root, tq.File)
	if err != nil {
		return "", err
	}
	if len(tq.Params) > 0 {
		if q, err = setParams(tq.File, q, tq.Params); err != nil {
			return "", err
		}
	}
	return embed(tq.Tick, tick, q)
}
