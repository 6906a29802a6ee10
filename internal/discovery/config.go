// Package discovery finds probe targets among Kubernetes pods through client-go informers.
package discovery

// Config is the [inputs.certexpiry.kubernetes] table. (Stub: the K8s helper fills it in.)
type Config struct{}
