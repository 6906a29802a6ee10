# Kubernetes discovery. Its integration tests (test/k8s: real kube-apiserver + etcd)
# are Go tests of the root module, so `make test` runs them already; this adds the scale
# benchmark to `make bench` and a target to run just the Kubernetes tests.

.PHONY: test-k8s bench-k8s

BENCH_EXTRA += bench-k8s

# Unit tests (fake clientset) and integration tests (real API server) of Kubernetes discovery.
test-k8s:
	test/tools/build.sh etcd kube-apiserver telegraf >/dev/null
	CERTEXPIRY_INTEGRATION=1 $(GO) test -count=1 -timeout 20m ./internal/discovery/ ./plugin/ ./test/k8s/

# 10,000 pods in a real API server watched by the real plugin binary: peak RSS, time to the
# first complete gather, API requests over 10 gathers. CERTEXPIRY_SCALE_PODS overrides the count.
bench-k8s:
	test/tools/build.sh etcd kube-apiserver >/dev/null
	mkdir -p $(BENCH_OUT)
	CERTEXPIRY_INTEGRATION=1 $(GO) test -run '^$$' -bench BenchmarkScale -benchtime 1x -count 3 -timeout 30m ./test/k8s/ >$(BENCH_OUT)/k8s.txt; \
		status=$$?; cat $(BENCH_OUT)/k8s.txt; exit $$status
