package main

import (
	"crypto/sha256"
	"fmt"
)

// Chronograf dashboard export (Dashboards → Import), Flux cells for InfluxDB 1.8 with Flux
// enabled. The shapes follow Chronograf's DashboardFile (meta + dashboard) and DashboardCell.

// chronografBucket is how every cell names its bucket: the dashboard's template variable
// :bucket:, which Chronograf (1.10) passes to Flux as v.bucket. Its default is InfluxDB 1.8's
// "database/retention-policy" of Telegraf's default database; users change it in the
// dashboard's variable bar, not in every query.
const (
	chronografBucket        = "v.bucket"
	chronografBucketVar     = ":bucket:"
	chronografBucketDefault = "telegraf/autogen"
)

// chronografSource is the source the cells point at; the import dialog lets the user map it.
const chronografSource = "/chronograf/v1/sources/1"

type cgFile struct {
	Meta      cgMeta      `json:"meta"`
	Dashboard cgDashboard `json:"dashboard"`
}

type cgMeta struct {
	ChronografVersion string              `json:"chronografVersion"`
	Sources           map[string]cgSource `json:"sources"`
}

type cgSource struct {
	Name string `json:"name"`
	Link string `json:"link"`
}

type cgDashboard struct {
	ID           int          `json:"id"`
	Cells        []cgCell     `json:"cells"`
	Templates    []cgTemplate `json:"templates"`
	Name         string       `json:"name"`
	Organization string       `json:"organization"`
}

// cgTemplate is a dashboard template variable (Chronograf's Template: TemplateVar, id, type,
// label). A "text" variable is a free-text box in the dashboard's variable bar; its one value
// has type "constant".
type cgTemplate struct {
	TempVar string            `json:"tempVar"`
	Values  []cgTemplateValue `json:"values"`
	ID      string            `json:"id"`
	Type    string            `json:"type"`
	Label   string            `json:"label"`
}

type cgTemplateValue struct {
	Value    string `json:"value"`
	Type     string `json:"type"`
	Selected bool   `json:"selected"`
}

// textTemplate is a free-text template variable with its default value.
func textTemplate(tempVar, value, label string) cgTemplate {
	return cgTemplate{
		TempVar: tempVar, ID: cellID("template " + tempVar), Type: "text", Label: label,
		Values: []cgTemplateValue{{Value: value, Type: "constant", Selected: true}},
	}
}

type cgCell struct {
	I              string            `json:"i"`
	X              int               `json:"x"`
	Y              int               `json:"y"`
	W              int               `json:"w"`
	H              int               `json:"h"`
	Name           string            `json:"name"`
	Queries        []cgQuery         `json:"queries"`
	Axes           map[string]cgAxis `json:"axes"`
	Type           string            `json:"type"`
	Colors         []cgColor         `json:"colors"`
	Legend         struct{}          `json:"legend"`
	TableOptions   cgTableOptions    `json:"tableOptions"`
	FieldOptions   []cgField         `json:"fieldOptions"`
	TimeFormat     string            `json:"timeFormat"`
	DecimalPlaces  cgDecimalPlaces   `json:"decimalPlaces"`
	Note           string            `json:"note"`
	NoteVisibility string            `json:"noteVisibility"`
}

type cgQuery struct {
	Query       string        `json:"query"`
	QueryConfig cgQueryConfig `json:"queryConfig"`
	Source      string        `json:"source"`
	Type        string        `json:"type"`
}

type cgQueryConfig struct {
	Database        string              `json:"database"`
	Measurement     string              `json:"measurement"`
	RetentionPolicy string              `json:"retentionPolicy"`
	Fields          []struct{}          `json:"fields"`
	Tags            map[string][]string `json:"tags"`
	GroupBy         cgGroupBy           `json:"groupBy"`
	AreTagsAccepted bool                `json:"areTagsAccepted"`
	RawText         string              `json:"rawText"`
	Range           *struct{}           `json:"range"`
	Shifts          []struct{}          `json:"shifts"`
}

type cgGroupBy struct {
	Time string   `json:"time"`
	Tags []string `json:"tags"`
}

type cgAxis struct {
	Bounds []string `json:"bounds"`
	Label  string   `json:"label"`
	Prefix string   `json:"prefix"`
	Suffix string   `json:"suffix"`
	Base   string   `json:"base"`
	Scale  string   `json:"scale"`
}

type cgColor struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Hex   string `json:"hex"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cgTableOptions struct {
	VerticalTimeAxis bool    `json:"verticalTimeAxis"`
	SortBy           cgField `json:"sortBy"`
	Wrapping         string  `json:"wrapping"`
	FixFirstColumn   bool    `json:"fixFirstColumn"`
}

type cgField struct {
	InternalName string `json:"internalName"`
	DisplayName  string `json:"displayName"`
	Visible      bool   `json:"visible"`
}

type cgDecimalPlaces struct {
	IsEnforced bool `json:"isEnforced"`
	Digits     int  `json:"digits"`
}

// cellID is a stable UUID-shaped id derived from the cell's name, so regenerating does not
// churn the file.
func cellID(name string) string {
	h := sha256.Sum256([]byte(name))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func chronografAxes(yLabel string) map[string]cgAxis {
	axis := func(label string) cgAxis {
		return cgAxis{Bounds: []string{"", ""}, Label: label, Base: "10", Scale: "linear"}
	}
	return map[string]cgAxis{"x": axis(""), "y": axis(yLabel), "y2": axis("")}
}

// chronografDashboard builds the export.
func chronografDashboard(root string) (cgFile, error) {
	f := cgFile{
		Meta: cgMeta{
			ChronografVersion: "1.10.0",
			Sources:           map[string]cgSource{"1": {Name: "InfluxDB 1.8 (Flux enabled)", Link: chronografSource}},
		},
		Dashboard: cgDashboard{
			Templates: []cgTemplate{textTemplate(chronografBucketVar, chronografBucketDefault, `bucket ("database/retention-policy")`)},
			Name:      dashboardName, Organization: "default",
		},
	}
	for _, c := range cells {
		q, err := dashboardQuery(root, c.File, c.params(chronografBucket))
		if err != nil {
			return cgFile{}, err
		}
		cc := chronografCell(c.Name, c.Note, q, "flux", c.X, c.Y, c.W, c.H)
		switch c.Kind {
		case kindTable:
			cc.Type = "table"
		case kindBars:
			cc.Type = "bar"
			cc.Axes = chronografAxes("renewals")
			cc.Colors = []cgColor{
				{ID: "c1", Type: "scale", Hex: "#31C0F6", Name: "Nineteen Eighty Four", Value: "0"},
				{ID: "c2", Type: "scale", Hex: "#A500A5", Name: "Nineteen Eighty Four", Value: "0"},
				{ID: "c3", Type: "scale", Hex: "#FF7E27", Name: "Nineteen Eighty Four", Value: "0"},
			}
		}
		f.Dashboard.Cells = append(f.Dashboard.Cells, cc)
	}
	return f, nil
}

// chronografCell is a cell with one raw query of the given type ("flux" or "influxql"),
// shown as a table until the caller says otherwise.
func chronografCell(name, note, q, queryType string, x, y, w, h int) cgCell {
	return cgCell{
		I: cellID(name), X: x, Y: y, W: w, H: h, Name: name,
		Queries: []cgQuery{{
			Query: q,
			QueryConfig: cgQueryConfig{
				Fields: []struct{}{}, Tags: map[string][]string{}, GroupBy: cgGroupBy{Tags: []string{}},
				RawText: q, Shifts: []struct{}{},
			},
			Source: chronografSource,
			Type:   queryType,
		}},
		Axes:           chronografAxes(""),
		Colors:         []cgColor{},
		TableOptions:   cgTableOptions{VerticalTimeAxis: true, SortBy: cgField{Visible: true}, Wrapping: "truncate", FixFirstColumn: true},
		FieldOptions:   []cgField{},
		TimeFormat:     "YYYY-MM-DD HH:mm:ss",
		DecimalPlaces:  cgDecimalPlaces{IsEnforced: true, Digits: 1},
		Note:           note,
		NoteVisibility: "showWhenNoData",
	}
}
