# Demo on a real Kubernetes API (test/demokube): kube-apiserver + etcd on loopback, pods in two
# namespaces served by real TLS servers, the plugin under a real Telegraf with Kubernetes
# discovery and the shipped RBAC. The three components come from test/tools/build.sh, which
# builds them once from the Go module proxy and caches them under $(CACHE)/bin.

.PHONY: demo-kubernetes

demo-kubernetes: build
	@test -x "$$(ls $(CACHE)/bin/kube-apiserver-* 2>/dev/null | head -n 1)" || \
		echo "demo-kubernetes: building kube-apiserver, etcd and telegraf once from the Go module proxy into $(CACHE)/bin (≈ 15 min on 2 cores, more on a busy machine; cached afterwards)"
	test/tools/build.sh telegraf etcd kube-apiserver >/dev/null
	$(GO) run ./test/demokube -plugin $(BIN) \
		-telegraf "$$(test/tools/build.sh telegraf)" \
		-etcd "$$(test/tools/build.sh etcd)" \
		-kube-apiserver "$$(test/tools/build.sh kube-apiserver)"
