#!/usr/bin/env bash
# Builds the real third-party components the integration tests run, once, from the Go module
# proxy, and caches each binary under $CACHE/bin keyed on its version (and build tags), so later
# runs reuse it. Prints the path of each binary it was asked for.
#
# Usage: test/tools/build.sh NAME...   NAME: telegraf etcd kube-apiserver influxd18 kapacitord nfpm helm promtool
#                                           nfpm helm
#
# Versions are pinned: the module proxy here serves only some releases (see REAL-COMPONENTS.md).
set -euo pipefail

CACHE=${TELEGRAF_CERTEXPIRY_CACHE:-$HOME/.cache/telegraf-certexpiry}
BIN=$CACHE/bin
mkdir -p "$BIN"

TELEGRAF_VERSION=1.39.3
TELEGRAF_TAGS="custom,inputs.execd,inputs.influxdb_listener,inputs.influxdb_v2_listener,inputs.http_listener_v2,outputs.file,outputs.influxdb,outputs.influxdb_v2,outputs.prometheus_client,parsers.influx,serializers.influx"
ETCD_VERSION=3.6.4
KUBE_VERSION=1.34.10
INFLUXDB_VERSION=1.8.3
KAPACITOR_VERSION=1.5.9
KAPACITOR_GOTOOLCHAIN=go1.21.13
NFPM_VERSION=2.45.2
HELM_VERSION=3.22.0

log() { echo "build.sh: $*" >&2; }

# tags_key makes the telegraf cache key change whenever the plugin selection changes.
tags_key() { printf '%s' "$TELEGRAF_TAGS" | sha256sum | cut -c1-8; }

# with_lock serialises concurrent builds of the same binary (parallel test packages may ask at once).
with_lock() {
	local name=$1; shift
	exec 9>"$BIN/.$name.lock"
	flock 9
	"$@"
	exec 9>&-
}

wrapper_dir() { mktemp -d "${TMPDIR:-/tmp}/certexpiry-build-$1.XXXXXX"; }

build_telegraf() {
	local out=$BIN/telegraf-$TELEGRAF_VERSION-$(tags_key)
	if [ ! -x "$out" ]; then
		log "building telegraf v$TELEGRAF_VERSION (≈4 min cold)"
		local d; d=$(wrapper_dir telegraf)
		GOBIN=$d CGO_ENABLED=0 go install -trimpath \
			-ldflags "-s -w -X github.com/influxdata/telegraf/internal.Version=$TELEGRAF_VERSION" \
			-tags "$TELEGRAF_TAGS" "github.com/influxdata/telegraf/cmd/telegraf@v$TELEGRAF_VERSION"
		mv "$d/telegraf" "$out"; rm -rf "$d"
	fi
	echo "$out"
}

build_etcd() {
	local out=$BIN/etcd-$ETCD_VERSION
	if [ ! -x "$out" ]; then
		log "building etcd v$ETCD_VERSION (≈5 min cold)"
		local d; d=$(wrapper_dir etcd)
		# go install pkg@version refuses modules with replace directives; a wrapper module does not.
		cat >"$d/go.mod" <<MOD
module local/etcdbuild

go 1.24

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION

tool go.etcd.io/etcd/server/v3
MOD
		(cd "$d" && go mod tidy >&2 && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o etcd go.etcd.io/etcd/server/v3)
		mv "$d/etcd" "$out"; rm -rf "$d"
	fi
	echo "$out"
}

build_kube_apiserver() {
	local out=$BIN/kube-apiserver-$KUBE_VERSION
	if [ ! -x "$out" ]; then
		log "building kube-apiserver v$KUBE_VERSION (≈15 min cold)"
		local d; d=$(wrapper_dir kube)
		local gomod
		gomod=$(go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
		{
			echo "module local/kubebuild"
			echo
			grep -E '^(go|godebug) ' "$gomod"
			echo
			echo "require k8s.io/kubernetes v$KUBE_VERSION"
			echo
			echo "tool k8s.io/kubernetes/cmd/kube-apiserver"
			echo
			# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local
			# paths; outside its tree each must be pinned to the matching published release.
			awk -v v="v0.${KUBE_VERSION#1.}" '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print "replace " $1 " => " $1 " " v }' "$gomod" | sort -u
		} >"$d/go.mod"
		(cd "$d" && go mod tidy >&2 && CGO_ENABLED=0 go build -trimpath \
			-ldflags "-s -w -X k8s.io/component-base/version.gitVersion=v$KUBE_VERSION" \
			-o kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver)
		mv "$d/kube-apiserver" "$out"; rm -rf "$d"
	fi
	echo "$out"
}

build_influxd18() {
	local out=$BIN/influxd-$INFLUXDB_VERSION
	if [ ! -x "$out" ]; then
		log "building influxd v$INFLUXDB_VERSION (≈5 min cold)"
		local d; d=$(wrapper_dir influxd)
		cat >"$d/go.mod" <<MOD
module local/influxdbuild

go 1.21

require github.com/influxdata/influxdb v$INFLUXDB_VERSION
MOD
		cat >"$d/tools.go" <<'SRC'
//go:build tools

package tools

import _ "github.com/influxdata/influxdb/cmd/influxd"
SRC
		(cd "$d" && go mod tidy >&2 && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o influxd github.com/influxdata/influxdb/cmd/influxd)
		mv "$d/influxd" "$out"; rm -rf "$d"
	fi
	echo "$out"
}

build_kapacitord() {
	local out=$BIN/kapacitord-$KAPACITOR_VERSION
	if [ ! -x "$out" ] || [ ! -x "$BIN/kapacitor-$KAPACITOR_VERSION" ]; then
		log "building kapacitord v$KAPACITOR_VERSION with $KAPACITOR_GOTOOLCHAIN (≈8 min cold)"
		local d; d=$(wrapper_dir kapacitor)
		# Its go.mod has replace directives, so build inside a writable copy of the module itself.
		# Go 1.26 builds it but it panics at start (an old ugorji codec): use the pinned toolchain.
		local src
		# Run outside any module: our go.mod's go line would make the old toolchain refuse.
		src=$(cd "$d" && GOTOOLCHAIN=$KAPACITOR_GOTOOLCHAIN GOFLAGS=-mod=mod go mod download -json "github.com/influxdata/kapacitor@v$KAPACITOR_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
		cp -r "$src/." "$d/"; chmod -R u+w "$d"
		(cd "$d" && GOTOOLCHAIN=$KAPACITOR_GOTOOLCHAIN CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags '-s -w' -o kapacitord ./cmd/kapacitord \
			&& GOTOOLCHAIN=$KAPACITOR_GOTOOLCHAIN CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags '-s -w' -o kapacitor ./cmd/kapacitor)
		mv "$d/kapacitor" "$BIN/kapacitor-$KAPACITOR_VERSION"
		mv "$d/kapacitord" "$out"; chmod -R u+w "$d"; rm -rf "$d"
	fi
	echo "$out"
}

# go_install_tool OUT PKG@VERSION: a module without replace directives installs directly.
go_install_tool() {
	local out=$1 pkg=$2
	local d; d=$(wrapper_dir "$(basename "$out")")
	GOBIN=$d CGO_ENABLED=0 go install -trimpath -ldflags '-s -w' "$pkg"
	mv "$d/$(basename "${pkg%@*}")" "$out"; rm -rf "$d"
}

# nfpm builds the .deb and .rpm (make package).
build_nfpm() {
	local out=$BIN/nfpm-$NFPM_VERSION
	if [ ! -x "$out" ]; then
		log "building nfpm v$NFPM_VERSION (≈2 min cold)"
		go_install_tool "$out" "github.com/goreleaser/nfpm/v2/cmd/nfpm@v$NFPM_VERSION"
	fi
	echo "$out"
}

# helm lints and renders deploy/helm/telegraf-certexpiry.
build_helm() {
	local out=$BIN/helm-$HELM_VERSION
	if [ ! -x "$out" ]; then
		log "building helm v$HELM_VERSION (≈5 min cold)"
		# helm's version string comes from ldflags; without it `helm version` says v3.x-dev.
		local d; d=$(wrapper_dir helm)
		GOBIN=$d CGO_ENABLED=0 go install -trimpath \
			-ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" \
			"helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
		mv "$d/helm" "$out"; rm -rf "$d"
	fi
	echo "$out"
}

# promtool runs the Prometheus alerting rules' unit tests (promtool test rules). Prometheus 3.16's
# module needs Go >= 1.26.7; building it takes ≈10 min and ≈3 GB of memory on 2 cores.
PROMTOOL_VERSION=0.316.0

build_promtool() {
	local out=$BIN/promtool-$PROMTOOL_VERSION
	if [ ! -x "$out" ]; then
		log "building promtool v$PROMTOOL_VERSION (≈10 min cold, ≈3 GB memory)"
		local d; d=$(wrapper_dir promtool)
		GOBIN=$d CGO_ENABLED=0 go install -trimpath -ldflags '-s -w' "github.com/prometheus/prometheus/cmd/promtool@v$PROMTOOL_VERSION"
		mv "$d/promtool" "$out"; rm -rf "$d"
	fi
	echo "$out"
}

for name in "$@"; do
	case $name in
	telegraf) with_lock telegraf build_telegraf ;;
	etcd) with_lock etcd build_etcd ;;
	kube-apiserver) with_lock kube-apiserver build_kube_apiserver ;;
	influxd18) with_lock influxd18 build_influxd18 ;;
	kapacitord) with_lock kapacitord build_kapacitord ;;
	nfpm) with_lock nfpm build_nfpm ;;
	helm) with_lock helm build_helm ;;
	promtool) with_lock promtool build_promtool ;;
	*) echo "build.sh: unknown component '$name' (want telegraf, etcd, kube-apiserver, influxd18, kapacitord, nfpm, helm, promtool)" >&2; exit 2 ;;
	esac
done
