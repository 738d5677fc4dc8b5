#!/usr/bin/env bash
# A testbed node's own mount namespace, so that it looks like a machine of its
# own while the host stays untouched. Run as `ip netns exec <node netns>
# unshare --mount --propagation private namespace.sh <node dir> <cgroup>
# <hierarchy>...`: it
# prepares the namespace, prints "ready" and stays as the process that holds
# it; containerd and the kubelet are then started inside with nsenter.
#
# - /etc, /var/lib, /var/log and /opt are overlays on the host's, with the
#   node's writes kept in <node dir>/upper: CNI config, kubelet and containerd
#   state, pod logs, /var/lib/cni and /var/lib/fleetboard are the node's own.
# - /run is a fresh tmpfs: containerd's and NRI's sockets and the pods' netns
#   files (/run/netns) are the node's own, and the host's `ip netns` never sees them.
# - containerd's root and the kubelet's root are plain folders (overlayfs cannot
#   hold overlay snapshots).
# - The kernel tunables the kubelet sets are not namespaced: the node gets its
#   own copies, so the kubelet never changes the host's.
# - The host's cgroup v1 hierarchies are mounted again (ip netns exec remounted
#   /sys), and the node joins <cgroup> in each, so that every process of the
#   node can be found, and killed, through its cgroup tree.
set -euo pipefail
node_dir=$1
cgroup=$2
shift 2

mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup
for h in "$@"; do
  mkdir "/sys/fs/cgroup/$h"
  if [ "$h" = systemd ]; then options=none,name=systemd; else options=$h; fi
  mount -t cgroup -o "$options" cgroup "/sys/fs/cgroup/$h"
  echo $$ > "/sys/fs/cgroup/$h$cgroup/cgroup.procs"
done
mkdir /sys/fs/cgroup/unified
mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified

for dir in etc var/lib var/log opt; do
  layer=${dir//\//-}
  mkdir -p "$node_dir/upper/$layer" "$node_dir/work/$layer"
  mount -t overlay overlay -o "lowerdir=/$dir,upperdir=$node_dir/upper/$layer,workdir=$node_dir/work/$layer" "/$dir"
done
mount -t tmpfs -o mode=755 run /run
mkdir -p /var/lib/containerd /var/lib/kubelet "$node_dir/containerd" "$node_dir/kubelet"
mount --bind "$node_dir/containerd" /var/lib/containerd
mount --bind "$node_dir/kubelet" /var/lib/kubelet

mkdir -p "$node_dir/sysctl"
for key in kernel/panic kernel/panic_on_oops vm/overcommit_memory vm/panic_on_oom kernel/keys/root_maxkeys kernel/keys/root_maxbytes; do
  copy="$node_dir/sysctl/${key//\//.}"
  cat "/proc/sys/$key" > "$copy"
  mount --bind "$copy" "/proc/sys/$key"
done

# Shared, as systemd makes a machine's mounts: volumes and the pods' netns files
# (bidirectional and HostToContainer propagation) reach containers. The peer
# groups are new ones of this namespace, which was made private: nothing
# mounted here reaches the host.
mount --make-rshared /

echo ready
exec sleep infinity
