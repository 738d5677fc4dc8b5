#!/usr/bin/env bash
# Builds the testbed's container images, as no registry is reachable: each
# folder here holds a Containerfile, built daemonlessly by buildah (vfs storage,
# chroot isolation) into an OCI archive in .cache/images that nodes import.
# A folder's archive is rebuilt only when its inputs change (Containerfile,
# this script, and the files it gathers into the build context).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/.cache/images"
work="$root/.cache/image-build"
mkdir -p "$out" "$work"
buildah=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)

# Gathers what a folder's Containerfile copies into the context $2.
gather() {
  case "$1" in
    pause)
      local k8s
      k8s=$(cd "$root/hack/tools" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)
      gcc -Os -Wall -static -DVERSION="$(echo "$2" | sed 's/.*://')" -o "$3/pause" "$k8s/build/pause/linux/pause.c"
      strip "$3/pause" ;;
    busybox)
      cp "$(dpkg -L busybox-static | grep -m1 '/bin/busybox$')" "$3/busybox" ;;
    *) echo "hack/images/build.sh: no recipe for $1" >&2; exit 1 ;;
  esac
}

while IFS=$'\t' read -r folder name; do
  case "$folder" in ''|'#'*) continue ;; esac
  ctx="$work/context-$folder"
  rm -rf "$ctx"; mkdir -p "$ctx"
  gather "$folder" "$name" "$ctx"
  cp "$here/$folder/Containerfile" "$ctx/"
  sum=$( { echo "$name"; sha256sum "$here/build.sh"; cd "$ctx" && find . -type f | LC_ALL=C sort | xargs sha256sum; } | sha256sum | cut -c1-16)
  archive="$out/$folder-$sum.tar"
  if [ ! -f "$archive" ]; then
    echo "images: building $name"
    "${buildah[@]}" bud --quiet --isolation chroot --layers=false -t "$name" "$ctx" >/dev/null
    rm -f "$out/$folder"-*.tar
    "${buildah[@]}" push --quiet "$name" "oci-archive:$archive.tmp:$name"
    "${buildah[@]}" rmi --force "$name" >/dev/null
    mv "$archive.tmp" "$archive"
  fi
  ln -sfn "$(basename "$archive")" "$out/$folder.tar"
  rm -rf "$ctx"
done < "$here/images.list"
echo "images: up to date in $out"
