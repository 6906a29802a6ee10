# Kubernetes discovery. Its integration tests (test/k8s: real kube-apiserver + etcd)
# are Go tests of the root module, so `make test` runs them already; this adds the scale
# benchmark to `make bench` and a target to run just the Kubernetes tests.

.PHONY: test-k8s bench-k8s

BENCH_EXTRA += bench-k8s

# Unit tests (fake clientset) and integration tests (real API server) of Kubernetes discovery.
test-k8s:
	test/tools/build.sh etcd kube-apiserver telegraf >/dev/null
	CERTEXPIRY_INTEGRATION=1 $(GO) test -count=1 -timeout 20m ./internal/discovery/ ./plugin/ ./test/k8s/

# Real TLS handshakes at 2,000, 5,000 and 10,000 pods × 2 domains in a real API server, watched
# by the real plugin binary, side by side with a bare tls.Dial loop over the same probes (3 rounds
# per size); then a real telegraf with the shipped ConfigMap's agent settings at 10,000 pods.
# Peak RSS, gather time, ratio to the bare loop, CPU per probe, API requests.
# CERTEXPIRY_SCALE_SIZES and CERTEXPIRY_SCALE_ROUNDS override the sizes and rounds.
bench-k8s:
	test/tools/build.sh etcd kube-apiserver telegraf >/dev/null
	mkdir -p $(BENCH_OUT)
	CERTEXPIRY_INTEGRATION=1 $(GO) test -run '^$$' -bench BenchmarkScale -benchtime 1x -count 1 -timeout 120m ./test/k8s/ >$(BENCH_OUT)/k8s.txt; \
		status=$$?; cat $(BENCH_OUT)/k8s.txt; exit $$status
