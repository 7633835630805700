// Command asbfs mounts an Aerospike backup as a read-only FUSE file system.
// See man/asbfs.1.
package main

import (
	"os"

	"asbtools/asbfs"
)

func main() {
	os.Exit(asbfs.Main(os.Args, os.Stdout, os.Stderr))
}
