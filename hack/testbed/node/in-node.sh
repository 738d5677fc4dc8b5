#!/usr/bin/env bash
# Runs a command as part of a testbed node, inside the namespaces of its
# namespace.sh (entered with nsenter): first joins the node's cgroup in every
# hierarchy, so that stopping the node finds the command and all it starts.
# Usage: in-node.sh <cgroup> <command> [argument...]
set -euo pipefail
cgroup=$1
shift
for hierarchy in /sys/fs/cgroup/*/; do
  if [ -d "$hierarchy${cgroup#/}" ]; then echo $$ > "$hierarchy${cgroup#/}/cgroup.procs"; fi
done
exec "$@"
