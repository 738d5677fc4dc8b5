//go:build tools

// Package tools pins the Helm release the charts are linted and rendered with.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
