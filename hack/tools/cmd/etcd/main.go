// Command etcd is etcd's own server entry point, built here so the testbed's
// etcd is pinned by go.mod to the release kube-apiserver is tested with.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
