package discovery

import (
	"fmt"
	"net/http"
	"os"
	"sync/atomic"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// UserAgent identifies the plugin in the API server's logs and audit events.
const UserAgent = "telegraf-certexpiry"

// RESTConfig returns the API client configuration Settings ask for:
//   - kube_config, kube_context or $KUBECONFIG set: the standard kubeconfig loading rules
//     (kube_config wins over $KUBECONFIG, which may list several files; the context defaults
//     to the file's current-context);
//   - none of them: the in-cluster service account (its token file is re-read as it rotates).
//
// getenv reads KUBECONFIG (os.Getenv when nil).
func RESTConfig(s *Settings, getenv func(string) string) (*rest.Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var (
		cfg *rest.Config
		err error
	)
	if s.KubeConfig == "" && s.KubeContext == "" && getenv(clientcmd.RecommendedConfigPathEnvVar) == "" {
		cfg, err = rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("kubernetes: no kube_config given and not running in a pod: %w", err)
		}
	} else {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rules.ExplicitPath = s.KubeConfig
		overrides := &clientcmd.ConfigOverrides{CurrentContext: s.KubeContext}
		cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("kubernetes: loading kubeconfig%s: %w", describeKubeconfig(s, getenv), err)
		}
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = UserAgent
	// Protobuf is several times cheaper to decode than JSON for a 10,000-pod list.
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	// HTTP/1.1: each watch gets its own TCP connection, so while a large initial list streams
	// in faster than it is decoded, the backlog waits in the kernel's socket buffer. Over
	// HTTP/2 the watches share one connection whose client-side buffers take up to 4 MB per
	// stream: at 10 namespaces × 1,000 pods that raised the peak RSS by 10-40 MB (see
	// BENCHMARKS.md). The cost is one connection per informer instead of one in total.
	cfg.TLSClientConfig.NextProtos = []string{"http/1.1"}
	return cfg, nil
}

func describeKubeconfig(s *Settings, getenv func(string) string) string {
	d := ""
	switch {
	case s.KubeConfig != "":
		d = " " + s.KubeConfig
	case getenv(clientcmd.RecommendedConfigPathEnvVar) != "":
		d = " $KUBECONFIG=" + getenv(clientcmd.RecommendedConfigPathEnvVar)
	}
	if s.KubeContext != "" {
		d += " (context " + s.KubeContext + ")"
	}
	return d
}

// NewClient builds a clientset from cfg whose every HTTP request, retries included,
// increments requests (when not nil).
func NewClient(cfg *rest.Config, requests *atomic.Int64) (kubernetes.Interface, error) {
	client, err := kubernetes.NewForConfig(CountRequests(cfg, requests))
	if err != nil {
		return nil, fmt.Errorf("kubernetes: building the client: %w", err)
	}
	return client, nil
}

// CountRequests returns a copy of cfg whose every HTTP request, retries included, increments
// requests; with requests nil it returns cfg unchanged. Any transport wrapper cfg already
// has stays in place, inside the counter.
func CountRequests(cfg *rest.Config, requests *atomic.Int64) *rest.Config {
	if requests == nil {
		return cfg
	}
	cfg = rest.CopyConfig(cfg)
	inner := cfg.WrapTransport
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		if inner != nil {
			rt = inner(rt)
		}
		return countingTransport{next: rt, n: requests}
	}
	return cfg
}

type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.next.RoundTrip(r)
}
