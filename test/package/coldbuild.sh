#!/usr/bin/env bash
# Times the builds that packaging adds to a cold `make test`: nfpm and helm (test/tools/build.sh)
# and the image writer (packaging/image), each once with empty Go module and build caches
# (cold) and once again right after (warm), then `make package` and `make image` with warm
# caches. Prints one line per measurement; `make bench-package` writes them to
# bench/results/package.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."

tmp=$(mktemp -d "${TMPDIR:-/tmp}/certexpiry-coldbuild.XXXXXX")
cleanup() { GOMODCACHE=$tmp/mod go clean -modcache 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

cores=$(nproc)
secs() { local s; s=$(date +%s); "$@" >/dev/null 2>&1; echo $(( $(date +%s) - s )); }
load() { cut -d' ' -f1 /proc/loadavg; }

# cold NAME CMD...: empty module cache, build cache and component cache.
cold() {
	local name=$1; shift
	rm -rf "$tmp/mod" "$tmp/cache" "$tmp/bin"
	GOMODCACHE=$tmp/mod go clean -modcache 2>/dev/null || true
	local t w
	t=$(GOMODCACHE=$tmp/mod GOCACHE=$tmp/cache TELEGRAF_CERTEXPIRY_CACHE=$tmp/bin secs "$@")
	local l; l=$(load)
	w=$(GOMODCACHE=$tmp/mod GOCACHE=$tmp/cache TELEGRAF_CERTEXPIRY_CACHE=$tmp/bin secs "$@")
	echo "$name: cold ${t}s, warm ${w}s ($cores cores, load average $l at the end of the cold build)"
}

echo "date: $(date -u +%Y-%m-%dT%H:%MZ) go: $(go env GOVERSION)"
cold "nfpm v2.45.2 (build.sh nfpm)" test/tools/build.sh nfpm
cold "helm v3.22.0 (build.sh helm)" test/tools/build.sh helm
cold "image writer (packaging/image)" sh -c 'cd packaging/image && CGO_ENABLED=0 go build -o "$0" .' "$tmp/imagebuild"
echo "make package, caches warm: $(secs make package DIST="$tmp/dist")s (load average $(load))"
echo "make image, caches warm: $(secs make image DIST="$tmp/dist")s (load average $(load))"
