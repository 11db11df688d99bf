#!/usr/bin/env bash
# Installs everything Ferry's build, tests, demo and benchmarks need. Idempotent; runs as root on a
# machine that may have none of it. apt packages are installed only when missing; pip likewise.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

apt_packages=(
  pkg-config
  libssl-dev zlib1g-dev libzstd-dev liblz4-dev      # Kopia codecs
  golang-go golang-github-klauspost-compress-dev lz4 # codec peers: klauspost s2/zstd (scripts/peers/codecpeer), lz4 CLI
  golang-github-klauspost-reedsolomon-dev           # ECC peer: klauspost Reed-Solomon (scripts/peers/eccpeer)
  libcurl4-openssl-dev                              # Kubernetes API and S3
  openssl                                           # test certificates for the loopback HTTPS servers
  libgrpc-dev libprotobuf-c-dev protobuf-c-compiler # CSI over gRPC core + protobuf-c
  protobuf-compiler libprotobuf-dev                 # descriptor checks, well-known types
  restic                                            # benchmark peer
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python peers for the interop suites (grpcio, moto). Installed only when an import fails.
req="$here/requirements-test.txt"
if [ -s "$req" ]; then
  if ! python3 "$here/check_python_deps.py" "$req" >/dev/null 2>&1; then
    echo "setup: installing Python test peers from $(basename "$req")"
    python3 -m pip install -q --disable-pip-version-check -r "$req"
  fi
fi
