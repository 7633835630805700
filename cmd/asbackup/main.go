// Command asbackup is not implemented yet; it only prints what it will be.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "asbackup: not implemented yet")
	os.Exit(1)
}
