package discovery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

const twoContexts = `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://127.0.0.1:6441"}
- name: b
  cluster: {server: "https://127.0.0.1:6442"}
users:
- name: u
  user: {token: "t0k3n"}
contexts:
- name: ctx-a
  context: {cluster: a, user: u}
- name: ctx-b
  context: {cluster: b, user: u}
current-context: ctx-a
`

func writeKubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(twoContexts), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRESTConfigKubeconfigAndContext(t *testing.T) {
	path := writeKubeconfig(t)
	t.Setenv("KUBECONFIG", "")
	tests := []struct {
		name     string
		s        Settings
		kubeenv  string
		wantHost string
	}{
		{"kube_config, its current-context", Settings{KubeConfig: path}, "", "https://127.0.0.1:6441"},
		{"kube_config and kube_context", Settings{KubeConfig: path, KubeContext: "ctx-b"}, "", "https://127.0.0.1:6442"},
		{"$KUBECONFIG honoured", Settings{}, path, "https://127.0.0.1:6441"},
		{"$KUBECONFIG with a context", Settings{KubeContext: "ctx-b"}, path, "https://127.0.0.1:6442"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tt.kubeenv)
			cfg, err := RESTConfig(&tt.s, nil)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != tt.wantHost || cfg.BearerToken != "t0k3n" || cfg.UserAgent != UserAgent {
				t.Fatalf("host %q token %q agent %q", cfg.Host, cfg.BearerToken, cfg.UserAgent)
			}
			if cfg.ContentType != "application/vnd.kubernetes.protobuf" || !reflect.DeepEqual(cfg.TLSClientConfig.NextProtos, []string{"http/1.1"}) {
				t.Fatalf("content type %q, ALPN %v: want protobuf over HTTP/1.1", cfg.ContentType, cfg.TLSClientConfig.NextProtos)
			}
		})
	}
}

func TestRESTConfigErrors(t *testing.T) {
	path := writeKubeconfig(t)
	t.Setenv("KUBECONFIG", "")
	_, err := RESTConfig(&Settings{KubeConfig: path, KubeContext: "nope"}, nil)
	want := `kubernetes: loading kubeconfig ` + path + ` (context nope): context "nope" does not exist`
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	_, err = RESTConfig(&Settings{KubeConfig: filepath.Join(t.TempDir(), "missing")}, nil)
	if err == nil || !strings.Contains(err.Error(), "missing: no such file or directory") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestNewClientCountsEveryRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}`))
	}))
	defer srv.Close()
	var n atomic.Int64
	client, err := NewClient(&rest.Config{Host: srv.URL}, &n)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := client.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if n.Load() != 3 {
		t.Fatalf("counted %d requests, made 3", n.Load())
	}
}
