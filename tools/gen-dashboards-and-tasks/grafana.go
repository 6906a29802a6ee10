package main

// Grafana dashboard (Dashboards → New → Import) for an InfluxDB data source with the Flux
// query language, against InfluxDB 1.8 (Flux enabled) or 2.x. The shapes follow
// @grafana/schema's Dashboard type; test/fluxcheck type-checks the file against it.

// grafanaBucket is how a Grafana query names the bucket: the "bucket" text-box variable,
// interpolated by Grafana before the query is sent.
const grafanaBucket = `"${bucket}"`

// grafanaDatasource points every panel at the data source picked in the "datasource"
// variable.
var grafanaDatasource = gfDatasourceRef{Type: "influxdb", UID: "${datasource}"}

type gfDashboard struct {
	UID           string       `json:"uid"`
	Title         string       `json:"title"`
	Description   string       `json:"description"`
	Tags          []string     `json:"tags"`
	Editable      bool         `json:"editable"`
	SchemaVersion int          `json:"schemaVersion"`
	Time          gfTime       `json:"time"`
	Refresh       string       `json:"refresh"`
	Templating    gfTemplating `json:"templating"`
	Panels        []gfPanel    `json:"panels"`
}

type gfTime struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type gfTemplating struct {
	List []gfVariable `json:"list"`
}

type gfVariable struct {
	Name    string           `json:"name"`
	Label   string           `json:"label"`
	Type    string           `json:"type"`
	Query   string           `json:"query"`
	Current *gfVariableValue `json:"current,omitempty"`
}

type gfVariableValue struct {
	Text  string `json:"text"`
	Value string `json:"value"`
}

type gfDatasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type gfPanel struct {
	ID          int             `json:"id"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	GridPos     gfGridPos       `json:"gridPos"`
	Datasource  gfDatasourceRef `json:"datasource"`
	Targets     []gfTarget      `json:"targets"`
	FieldConfig gfFieldConfig   `json:"fieldConfig"`
	Options     map[string]any  `json:"options"`
}

type gfGridPos struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

type gfTarget struct {
	RefID      string          `json:"refId"`
	Datasource gfDatasourceRef `json:"datasource"`
	Query      string          `json:"query"`
}

type gfFieldConfig struct {
	Defaults  gfFieldDefaults `json:"defaults"`
	Overrides []struct{}      `json:"overrides"`
}

type gfFieldDefaults struct {
	Decimals *int           `json:"decimals,omitempty"`
	Custom   map[string]any `json:"custom,omitempty"`
}

// grafanaDashboard builds the dashboard. Grafana's grid is 24 columns wide and its rows
// are shorter: the shared 12-column layout is doubled in both directions.
func grafanaDashboard(root string) (gfDashboard, error) {
	d := gfDashboard{
		UID: "certexpiry-certificates", Title: dashboardName, Description: dashboardDescription,
		Tags: []string{"certificates", "certbot", "tls"}, Editable: true, SchemaVersion: 39,
		Time: gfTime{From: "now-30d", To: "now"}, Refresh: "5m",
		Templating: gfTemplating{List: []gfVariable{
			{Name: "datasource", Label: "InfluxDB (Flux)", Type: "datasource", Query: "influxdb"},
			{
				Name: "bucket", Label: "Bucket", Type: "textbox", Query: "telegraf/autogen",
				Current: &gfVariableValue{Text: "telegraf/autogen", Value: "telegraf/autogen"},
			},
		}},
	}
	one := 1
	for i, c := range cells {
		q, err := dashboardQuery(root, c.File, c.params(grafanaBucket))
		if err != nil {
			return gfDashboard{}, err
		}
		p := gfPanel{
			ID: i + 1, Title: c.Name, Description: c.Note,
			GridPos:    gfGridPos{X: 2 * c.X, Y: 2 * c.Y, W: 2 * c.W, H: 2 * c.H},
			Datasource: grafanaDatasource,
			Targets:    []gfTarget{{RefID: "A", Datasource: grafanaDatasource, Query: q}},
			FieldConfig: gfFieldConfig{
				Defaults:  gfFieldDefaults{Decimals: &one},
				Overrides: []struct{}{},
			},
		}
		switch c.Kind {
		case kindTable:
			p.Type = "table"
			p.Options = map[string]any{"showHeader": true, "cellHeight": "sm"}
		case kindBars:
			p.Type = "timeseries"
			p.FieldConfig.Defaults.Decimals = nil
			p.FieldConfig.Defaults.Custom = map[string]any{"drawStyle": "bars", "fillOpacity": 80, "stacking": map[string]any{"mode": "normal", "group": "A"}}
			p.Options = map[string]any{"legend": map[string]any{"displayMode": "list", "placement": "bottom", "showLegend": true}}
		}
		d.Panels = append(d.Panels, p)
	}
	return d, nil
}
