package main

// InfluxDB 2 template (`influx apply -f`): a query variable "bucket" and the dashboard. The
// shapes follow InfluxDB 2's pkger format (apiVersion influxdata.com/v2alpha1).

const influx2APIVersion = "influxdata.com/v2alpha1"

type i2Resource struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   i2Metadata `json:"metadata"`
	Spec       any        `json:"spec"`
}

type i2Metadata struct {
	Name string `json:"name"`
}

type i2VariableSpec struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Type        string   `json:"type"`
	Language    string   `json:"language"`
	Query       string   `json:"query"`
	Selected    []string `json:"selected"`
}

type i2DashboardSpec struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Charts      []i2Chart `json:"charts"`
}

type i2Chart struct {
	Kind         string          `json:"kind"`
	Name         string          `json:"name"`
	Note         string          `json:"note,omitempty"`
	NoteOnEmpty  bool            `json:"noteOnEmpty,omitempty"`
	XPos         int             `json:"xPos"`
	YPos         int             `json:"yPos"`
	Width        int             `json:"width"`
	Height       int             `json:"height"`
	Queries      []i2Query       `json:"queries"`
	Colors       []i2Color       `json:"colors,omitempty"`
	Axes         []i2Axis        `json:"axes,omitempty"`
	Geom         string          `json:"geom,omitempty"`
	Position     string          `json:"position,omitempty"`
	XColumn      string          `json:"xColumn,omitempty"`
	YColumn      string          `json:"yColumn,omitempty"`
	TableOptions *i2TableOptions `json:"tableOptions,omitempty"`
	TimeFormat   string          `json:"timeFormat,omitempty"`
}

type i2Query struct {
	Query string `json:"query"`
}

type i2Color struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Hex  string `json:"hex"`
}

type i2Axis struct {
	Name  string `json:"name"`
	Label string `json:"label,omitempty"`
	Base  string `json:"base"`
	Scale string `json:"scale"`
}

type i2TableOptions struct {
	VerticalTimeAxis bool   `json:"verticalTimeAxis"`
	Wrapping         string `json:"wrapping"`
	FixFirstColumn   bool   `json:"fixFirstColumn"`
}

// influx2Template builds the template; queries read the bucket from the "bucket" variable.
func influx2Template(root string) ([]i2Resource, error) {
	dash := i2DashboardSpec{Name: dashboardName, Description: dashboardDescription}
	for _, c := range cells {
		q, err := dashboardQuery(root, c.File, c.params("v.bucket"))
		if err != nil {
			return nil, err
		}
		ch := i2Chart{
			Name: c.Name, Note: c.Note, NoteOnEmpty: c.Note != "",
			XPos: c.X, YPos: c.Y, Width: c.W, Height: c.H,
			Queries: []i2Query{{Query: q}},
		}
		switch c.Kind {
		case kindTable:
			ch.Kind = "Table"
			ch.TableOptions = &i2TableOptions{VerticalTimeAxis: true, Wrapping: "truncate", FixFirstColumn: true}
			ch.TimeFormat = "YYYY-MM-DD HH:mm:ss"
		case kindBars:
			ch.Kind = "Xy"
			ch.Geom = "bar"
			ch.Position = "stacked"
			ch.XColumn, ch.YColumn = "_time", "_value"
			ch.Axes = []i2Axis{{Name: "x", Base: "10", Scale: "linear"}, {Name: "y", Label: "renewals", Base: "10", Scale: "linear"}}
			ch.Colors = []i2Color{
				{ID: "c1", Name: "Nineteen Eighty Four", Type: "scale", Hex: "#31C0F6"},
				{ID: "c2", Name: "Nineteen Eighty Four", Type: "scale", Hex: "#A500A5"},
				{ID: "c3", Name: "Nineteen Eighty Four", Type: "scale", Hex: "#FF7E27"},
			}
		}
		dash.Charts = append(dash.Charts, ch)
	}
	return []i2Resource{
		{
			APIVersion: influx2APIVersion, Kind: "Variable", Metadata: i2Metadata{Name: "certexpiry-bucket"},
			Spec: i2VariableSpec{
				Name:        "bucket",
				Description: "Bucket holding cert_expiry and certbot_renewal",
				Type:        "query",
				Language:    "flux",
				Query:       "buckets()\n  |> filter(fn: (r) => r.name !~ /^_/)\n  |> rename(columns: {name: \"_value\"})\n  |> keep(columns: [\"_value\"])\n",
				Selected:    []string{"telegraf"},
			},
		},
		{APIVersion: influx2APIVersion, Kind: "Dashboard", Metadata: i2Metadata{Name: "certexpiry-certificates"}, Spec: dash},
	}, nil
}
