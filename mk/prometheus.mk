# Prometheus (deploy/prometheus/): the alerting rules are tested with promtool's own
# `promtool test rules`, and test/prometheus scrapes a real telegraf's prometheus_client
# output. Both are ordinary Go tests of the root module, so `make test` runs them; this
# fragment only has `make tools` build and cache promtool (≈ 10 min cold, ≈ 3 GB memory)
# with the other components, and offers the rule tests on their own.

TOOLS += promtool

.PHONY: test-prometheus-rules
test-prometheus-rules:
	cd deploy/prometheus && "$$(../../test/tools/build.sh promtool)" check rules certexpiry-rules.yml
	cd deploy/prometheus && "$$(../../test/tools/build.sh promtool)" test rules certexpiry-rules.test.yml certbot-renewal.test.yml
