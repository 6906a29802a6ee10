package plugin

import (
	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/inputs"
	_ "k8s.io/client-go/kubernetes"
	_ "k8s.io/client-go/tools/clientcmd"
	_ "k8s.io/client-go/kubernetes/fake"
	_ "github.com/BurntSushi/toml"
	_ "github.com/influxdata/line-protocol/v2/lineprotocol"
)

type CertExpiry struct{}

func (*CertExpiry) SampleConfig() string { return "" }
func (*CertExpiry) Gather(telegraf.Accumulator) error { return nil }

func init() { inputs.Add("certexpiry", func() telegraf.Input { return &CertExpiry{} }) }
