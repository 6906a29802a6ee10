# Alerting and dashboards: kapacitor/, flux/, test/alerting, test/tickcheck,
# test/fluxcheck.
#
#   make dashboards     regenerate flux/dashboards/* and the queryFlux bodies of
#                       kapacitor/*.tick from flux/**/*.flux (one source of truth per query),
#                       with tools/gen-dashboards-and-tasks
#   make test-alerting  TICKscripts through Kapacitor 1.7's own parser and pipeline builder
#                       (test/tickcheck, a module of its own), every Flux query through the
#                       Flux language server and the Grafana dashboard through
#                       @grafana/schema + tsc (test/fluxcheck, npm), and generated files
#                       compared with the committed ones. The real-engine tests (kapacitord
#                       1.5.9, InfluxDB 1.6.7 / 1.8.3) are Go tests in test/alerting and run
#                       with the other Go tests.

.PHONY: dashboards test-alerting test-tickcheck test-fluxcheck test-dashboards

dashboards:
	$(GO) run ./tools/gen-dashboards-and-tasks

test-tickcheck:
	cd test/tickcheck && CGO_ENABLED=0 $(GO) test -count=1 ./...

test-fluxcheck:
	cd test/fluxcheck && npm ci --no-audit --no-fund --loglevel=error
	cd test/fluxcheck && node check.js --self-test
	cd test/fluxcheck && node check.js ../../flux ../../kapacitor
	cd test/fluxcheck && node grafana-check.js --self-test
	cd test/fluxcheck && node grafana-check.js ../../flux/dashboards/grafana-dashboard.json

test-dashboards:
	$(GO) run ./tools/gen-dashboards-and-tasks -check

test-alerting: test-tickcheck test-fluxcheck test-dashboards

TEST_EXTRA += test-alerting

# Server-side cost of the dashboard and alert queries on InfluxDB 1.8.3 at fleet sizes
# (figures quoted in BENCHMARKS.md, section Alerting).
.PHONY: bench-alerting
bench-alerting:
	mkdir -p $(BENCH_OUT)
	CERTEXPIRY_INTEGRATION=1 $(GO) test -run '^$$' -bench . -benchtime 2x -count 3 -timeout 60m ./test/alerting/ | grep -v '^        ' | tee $(BENCH_OUT)/alerting.txt

BENCH_EXTRA += bench-alerting
