#!/usr/bin/env bash
# Everything FleetBoard's tests and demo need on a fresh Debian 12 machine,
# as root: system packages, npm packages and the Go-built testbed tools.
# Idempotent and quick when nothing changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ "$(id -u)" != 0 ]; then
  echo "hack/setup.sh: run as root (the testbed creates network namespaces and installs packages)" >&2
  exit 1
fi

# libseccomp-dev and pkgconf: runc is built with seccomp, as pods' default profile needs;
# buildah builds the testbed's images from roots mmdebstrap makes (busybox-static goes into one).
packages=(iproute2 iputils-ping nftables iptables wireguard-tools dnsutils iperf3 dnsperf
  containernetworking-plugins conntrack curl util-linux procps nginx-light ca-certificates tcpdump
  libseccomp-dev pkgconf buildah mmdebstrap busybox-static)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  # Packages must not start host services (nginx would bind the host's port 80).
  policy=/usr/sbin/policy-rc.d
  made_policy=
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; made_policy=1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$made_policy" ] || rm -f "$policy"
fi

lock_sum=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f node_modules/.fleetboard-lock ] || [ "$(cat node_modules/.fleetboard-lock)" != "$lock_sum" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.fleetboard-lock
fi

bash hack/tools/build.sh
bash hack/images/build.sh

# The wireguard-go FleetBoard's image ships, where the cnf pods, tests and
# benchmarks find it on PATH (ahead of any older one from a distribution).
if ! cmp -s .cache/bin/wireguard-go /usr/local/bin/wireguard-go; then
  echo "setup: installing wireguard-go $(.cache/bin/wireguard-go --version | head -1 | cut -d' ' -f2) into /usr/local/bin"
  install -m 0755 .cache/bin/wireguard-go /usr/local/bin/wireguard-go
fi
