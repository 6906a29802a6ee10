# Kubernetes discovery. Its integration tests (test/k8s: real kube-apiserver + etcd)
# are Go tests of the root module, so `make test` runs them already; this adds the scale
# benchmark to `make bench` and a target to run just the Kubernetes tests.

.PHONY: test-k8s bench-k8s bench-k8s-busy

BENCH_EXTRA += bench-k8s bench-k8s-busy

# Unit tests (fake clientset) and integration tests (real API server) of Kubernetes discovery.
test-k8s:
	test/tools/build.sh etcd kube-apiserver telegraf >/dev/null
	CERTEXPIRY_INTEGRATION=1 $(GO) test -count=1 -timeout 20m ./internal/discovery/ ./plugin/ ./test/k8s/

# Real TLS handshakes at 2,000, 5,000 and 10,000 pods × 2 domains in a real API server, watched
# by the real plugin binary, side by side with a bare tls.Dial loop over the same probes (3 rounds
# per size with the good pods sharing one certificate, 2 with every pod serving its own); then a
# real telegraf with the shipped ConfigMap's agent settings at 10,000 pods.
# Peak RSS, gather time, ratio to the bare loop, CPU per probe, API requests.
# CERTEXPIRY_SCALE_SIZES and CERTEXPIRY_SCALE_ROUNDS override the sizes and rounds.
bench-k8s:
	test/tools/build.sh etcd kube-apiserver telegraf >/dev/null
	mkdir -p $(BENCH_OUT)
	CERTEXPIRY_INTEGRATION=1 $(GO) test -run '^$$' -bench BenchmarkScale -benchtime 1x -count 1 -timeout 120m ./test/k8s/ >$(BENCH_OUT)/k8s.txt; \
		status=$$?; cat $(BENCH_OUT)/k8s.txt; exit $$status

# The same handshakes on a busy machine: one busy loop per core runs beside the benchmark (as on
# a node whose other workloads use its CPU), at 2,000 and 10,000 pods, 5 rounds each (and 2 with
# a certificate per pod): the gather's ratio to the bare loop, both slowed alike. The loops end
# with the run.
bench-k8s-busy:
	test/tools/build.sh etcd kube-apiserver >/dev/null
	mkdir -p $(BENCH_OUT)
	pids=; for i in $$(seq $$(nproc)); do sh -c 'while :; do :; done' & pids="$$pids $$!"; done; \
	trap 'kill $$pids' EXIT; \
	CERTEXPIRY_INTEGRATION=1 CERTEXPIRY_SCALE_SIZES=2000,10000 CERTEXPIRY_SCALE_ROUNDS=5 \
		$(GO) test -run '^$$' -bench 'BenchmarkScale/handshakes' -benchtime 1x -count 1 -timeout 120m ./test/k8s/ >$(BENCH_OUT)/k8s-busy.txt; \
		status=$$?; cat $(BENCH_OUT)/k8s-busy.txt; exit $$status
