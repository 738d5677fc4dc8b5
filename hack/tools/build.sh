#!/usr/bin/env bash
# Builds the testbed's Go tools into .cache/bin: kube-apiserver,
# kube-controller-manager, kube-scheduler, kube-proxy and kubectl from
# k8s.io/kubernetes,
# etcd, CoreDNS, the NRI runtime drivers (current NRI and v0.3) and
# wireguard-go (the release FleetBoard's image ships: Debian's lacks the TUN
# and UDP segmentation offloads that make it fast), and Helm (the charts are linted
# and rendered with it). Skips the build when the sources
# and the Go version are unchanged since the last one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/.cache/bin"
command -v go >/dev/null || { echo "hack/tools/build.sh: Go is not installed (need Go >= 1.26 on PATH)" >&2; exit 1; }

stamp=$( { go version; cd "$here" && find . -name '*.go' -o -name 'go.mod' -o -name 'go.sum' -o -name 'build.sh' | LC_ALL=C sort | xargs sha256sum; } | sha256sum | cut -c1-16)
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
  echo "tools: up to date in $out"
  exit 0
fi

mkdir -p "$out"
start=$(date +%s)
echo "tools: building Kubernetes, etcd and the NRI runtime driver (first build takes several minutes)"
(cd "$here" && go build -trimpath -o "$out/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kube-proxy \
  k8s.io/kubernetes/cmd/kubectl \
  ./cmd/etcd ./cmd/nri-runtime ./cmd/nri-event-logger)
echo "tools: building the NRI v0.3 runtime driver (containerd 1.7.0's NRI)"
(cd "$here/nri-legacy" && go build -trimpath -o "$out/nri-runtime-v0.3" .)
echo "tools: building wireguard-go"
(cd "$here/wireguard-go" && go build -trimpath -o "$out/wireguard-go" golang.zx2c4.com/wireguard)
echo "tools: building CoreDNS"
(cd "$here/coredns" && go build -trimpath -o "$out/coredns" .)
echo "tools: building Helm"
(cd "$here/helm" && go build -trimpath -o "$out/helm" helm.sh/helm/v4/cmd/helm)
echo "$stamp" > "$out/.stamp"
echo "tools: built in $(( $(date +%s) - start )) s"
