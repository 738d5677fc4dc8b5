module github.com/fleetboard-io/fleetboard/hack/tools/nridriver

go 1.21
