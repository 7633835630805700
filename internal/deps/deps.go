//go:build deps

// Package deps pins the module's third-party dependencies in go.mod before
// every package that uses them exists.
package deps

import (
	_ "github.com/aerospike/aerospike-client-go/v7"
	_ "github.com/aws/aws-sdk-go-v2/aws"
	_ "github.com/hanwen/go-fuse/v2/fs"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/pelletier/go-toml/v2"
	_ "github.com/spf13/pflag"
)
