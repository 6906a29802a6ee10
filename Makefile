# telegraf-certexpiry — build, test, demo.
#
#   make demo        the main job on a machine with no cluster: real telegraf + our plugin
#                    against local TLS servers, printing the cert_expiry rows Telegraf emits
#   make test        every test, unit and integration, against real components (installs
#                    Debian packages as root, builds and caches Go-built ones)
#   make test-unit   the fast inner loop: unit tests only
#   make lint        gofmt, go vet, staticcheck
#   make bench       benchmarks; figures written to bench/results/, quoted in BENCHMARKS.md
#
# Heavy builds (telegraf, etcd, kube-apiserver, influxd 1.8, kapacitord) are cached under
# $(CACHE)/bin by test/tools/build.sh and reused.

GO          ?= go
CACHE       ?= $(HOME)/.cache/telegraf-certexpiry
BIN         := bin/telegraf-certexpiry
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Go-built components the integration tests need, built once and cached.
TOOLS       := telegraf etcd kube-apiserver influxd18 kapacitord

export TELEGRAF_CERTEXPIRY_CACHE := $(CACHE)

# Area fragments (mk/*.mk) add their own targets and append to TEST_EXTRA (run by `make test`
# after the Go tests) and BENCH_EXTRA.
TEST_EXTRA  :=
BENCH_EXTRA :=
-include mk/*.mk

.PHONY: all build demo test test-unit test-go test-deps tools lint bench bench-probe clean
all: build

build: $(BIN)

$(BIN): FORCE
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./cmd/telegraf-certexpiry

FORCE:

demo: build
	test/tools/build.sh telegraf >/dev/null
	$(GO) run ./test/demo -telegraf "$$(test/tools/build.sh telegraf)" -plugin $(BIN)

test-unit:
	$(GO) test -count=1 ./...

# Debian packages (as root: installed; otherwise: the exact apt-get line to run).
test-deps:
	test/tools/apt.sh

# Three builds at a time: a cold build is mostly module downloads, which overlap well with
# another build's compiling (≈ 35 min in sequence on 2 cores, much less side by side).
tools:
	printf '%s\n' $(TOOLS) | xargs -P 3 -n 1 test/tools/build.sh >/dev/null

# First every package's unit tests under the race detector (integration off; measured ≈ 2.5 min
# on 2 busy cores, race builds included; needs cgo, so gcc comes from test-deps), then unit and
# integration tests in one go test run; integration tests fail (not skip) when a component is
# missing, because CERTEXPIRY_INTEGRATION=1.
test-go: test-deps tools build
	$(GO) test -race -count=1 -timeout 20m ./...
	CERTEXPIRY_INTEGRATION=1 $(GO) test -count=1 -timeout 60m ./...

# lint last: a style slip should not hide a test result.
test: test-go $(TEST_EXTRA) lint

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Figures go to bench/results/ (one file per area); BENCHMARKS.md quotes them.
BENCH_OUT := bench/results

bench: bench-probe $(BENCH_EXTRA)

bench-probe:
	mkdir -p $(BENCH_OUT)
	$(GO) test -run '^$$' -bench . -benchtime 5x -count 3 ./internal/probe/ | tee $(BENCH_OUT)/probe.txt

clean:
	rm -rf bin
