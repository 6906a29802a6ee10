#!/usr/bin/env bash
# Makes sure the Debian packages the integration tests run are installed. As root (CI) it
# installs what is missing with apt-get; otherwise it names exactly what to install and fails.
set -euo pipefail

# command → Debian package that provides it
declare -A PKG=(
	[influxd]=influxdb
	[influx]=influxdb-client
	[certbot]=certbot
	[pebble]=pebble
	[pebble-challtestsrv]=pebble
	[openssl]=openssl
	[node]=nodejs
	[npm]=npm
	[flock]=util-linux
	[curl]=curl
	[rpm]=rpm
	[gcc]=gcc # go test -race needs cgo
)

missing=()
for cmd in "${!PKG[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || missing+=("${PKG[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

if [ "$(id -u)" -ne 0 ]; then
	echo "apt.sh: missing Debian packages; install them with:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "apt.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# Debian's influxdb package starts a system-wide influxd on :8086; the tests run their own.
if command -v systemctl >/dev/null 2>&1; then systemctl stop influxdb >/dev/null 2>&1 || true; fi
service influxdb stop >/dev/null 2>&1 || true
