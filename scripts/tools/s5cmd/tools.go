//go:build tools

// Package tools pins s5cmd for the benchmark. The module proxy refuses `go install github.com/peak/s5cmd/v2@v2.3.0`
// (its deprecation lookup reads the module's version list, which the proxy withholds), while a build from a module
// that requires that exact version works: this module is that requirement, with go.sum fixing every dependency.
package tools

import _ "github.com/peak/s5cmd/v2"
