// Command build builds the pinned MinIO test server into the per-user cache
// (if it is not there yet) and prints its path. `make test` runs it first so
// that no test waits for the build.
package main

import (
	"fmt"
	"os"

	"asbtools/internal/miniotest"
)

func main() {
	bin, err := miniotest.Binary()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(bin)
}
