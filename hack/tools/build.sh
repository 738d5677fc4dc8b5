#!/usr/bin/env bash
# Builds the testbed's Go tools into .cache/bin: kube-apiserver,
# kube-controller-manager, kube-scheduler, kube-proxy, kubelet and kubectl from
# k8s.io/kubernetes (stamped with their module's version, as a release is),
# the node runtimes (containerd 2.x and 1.7, each with its runc shim and ctr,
# in their own folders; runc with seccomp; crictl), etcd, CoreDNS, the NRI runtime drivers (current NRI and v0.3) and
# wireguard-go (the release FleetBoard's image ships: Debian's lacks the TUN
# and UDP segmentation offloads that make it fast), and Helm (the charts are linted
# and rendered with it), and the registry the nodes pull the testbed's images from. Skips the build when the sources
# and the Go version are unchanged since the last one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/.cache/bin"
command -v go >/dev/null || { echo "hack/tools/build.sh: Go is not installed (need Go >= 1.26.6 on PATH)" >&2; exit 1; }

stamp=$( { go version; cd "$here" && find . -name '*.go' -o -name 'go.mod' -o -name 'go.sum' -o -name 'build.sh' | LC_ALL=C sort | xargs sha256sum; } | sha256sum | cut -c1-16)
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
  echo "tools: up to date in $out"
  exit 0
fi

mkdir -p "$out"
start=$(date +%s)
echo "tools: building Kubernetes, etcd and the NRI runtime driver (first build takes several minutes)"
# Without the stamp a module build reports v0.0.0-master, and no chart's
# kubeVersion constraint could be checked.
kube_version=$(cd "$here" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
kube_minor=$(echo "$kube_version" | cut -d. -f2)
kube_date=$(cd "$here" && go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
kube_ldflags=
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$kube_minor"
  kube_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$kube_date"
done
(cd "$here" && go build -trimpath -ldflags "$kube_ldflags" -o "$out/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kube-proxy \
  k8s.io/kubernetes/cmd/kubelet \
  k8s.io/kubernetes/cmd/kubectl)
(cd "$here" && go build -trimpath -o "$out/" ./cmd/etcd ./cmd/nri-runtime ./cmd/nri-event-logger)
# Each containerd with its own shim and ctr, so a node puts exactly one
# release on its PATH.
build_containerd() { # folder, module path, output folder
  local version
  version=$(cd "$here/$1" && go list -m -f '{{.Version}}' "$2")
  echo "tools: building containerd $version"
  mkdir -p "$out/$3"
  (cd "$here/$1" && go build -trimpath -tags urfave_cli_no_docs \
    -ldflags "-X $2/version.Version=$version" -o "$out/$3/" \
    "$2/cmd/containerd" "$2/cmd/containerd-shim-runc-v2" "$2/cmd/ctr")
}
build_containerd containerd github.com/containerd/containerd/v2 containerd-2
build_containerd containerd-1.7 github.com/containerd/containerd containerd-1.7
echo "tools: building runc (with seccomp) and crictl"
(cd "$here/runc" && CGO_ENABLED=1 go build -trimpath -tags "seccomp urfave_cli_no_docs" -o "$out/runc" github.com/opencontainers/runc)
crictl_version=$(cd "$here/crictl" && go list -m -f '{{.Version}}' sigs.k8s.io/cri-tools)
(cd "$here/crictl" && go build -trimpath -ldflags "-X sigs.k8s.io/cri-tools/pkg/version.Version=$crictl_version" \
  -o "$out/crictl" sigs.k8s.io/cri-tools/cmd/crictl)
echo "tools: building the NRI v0.3 runtime driver (containerd 1.7.0's NRI)"
(cd "$here/nri-legacy" && go build -trimpath -o "$out/nri-runtime-v0.3" .)
echo "tools: building wireguard-go"
(cd "$here/wireguard-go" && go build -trimpath -o "$out/wireguard-go" golang.zx2c4.com/wireguard)
echo "tools: building CoreDNS"
# Static: its image holds nothing but the binary.
(cd "$here/coredns" && CGO_ENABLED=0 go build -trimpath -o "$out/coredns" .)
echo "tools: building the image registry (distribution)"
registry_version=$(cd "$here/registry" && go list -m -f '{{.Version}}' github.com/distribution/distribution/v3)
(cd "$here/registry" && go build -trimpath -ldflags "-X github.com/distribution/distribution/v3/version.version=$registry_version" \
  -o "$out/registry" github.com/distribution/distribution/v3/cmd/registry)
echo "tools: building Helm"
(cd "$here/helm" && go build -trimpath -o "$out/helm" helm.sh/helm/v4/cmd/helm)
echo "$stamp" > "$out/.stamp"
echo "tools: built in $(( $(date +%s) - start )) s"
