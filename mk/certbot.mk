# certbot hook. Its unit and integration tests are ordinary Go tests of the root
# module (internal/certbot/..., plugin/, test/certbot/), so `make test` already runs them; this
# fragment only adds the benchmarks and an on-demand fuzz run.

.PHONY: bench-certbot fuzz-certbot
BENCH_EXTRA += bench-certbot

bench-certbot:
	mkdir -p $(BENCH_OUT)
	$(GO) test -run '^$$' -bench . -count 3 ./internal/certbot/renewal/ ./internal/certbot/spool/ | tee $(BENCH_OUT)/certbot.txt

# The fuzz seeds run in every `go test`; this explores further (FUZZTIME=5m for longer).
FUZZTIME ?= 60s
fuzz-certbot:
	$(GO) test -run '^$$' -fuzz FuzzLines -fuzztime $(FUZZTIME) ./internal/certbot/renewal/
