package main

import (
	"github.com/influxdata/telegraf/plugins/common/shim"
	_ "github.com/telegraf-certexpiry/telegraf-certexpiry/plugin"
)

func main() { _ = shim.New() }
