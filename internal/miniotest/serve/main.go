// Command serve runs the MinIO test server (built first if it is not in the
// cache) with a fresh data directory and the given buckets, for the demo:
// it prints "endpoint URL" and the environment a tool needs ("env K=V"
// lines), then "ready", and stops the server (removing its data) on
// SIGINT or SIGTERM. Exit code 3: the server is not built and cannot be
// built here (no network for the Go module proxy, say).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"asbtools/internal/miniotest"
)

func main() {
	buckets := flag.String("buckets", "", "comma-separated buckets to create")
	flag.Parse()
	if _, err := miniotest.Binary(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3) // not built and cannot be built here
	}
	srv, err := miniotest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, b := range strings.Split(*buckets, ",") {
		if b == "" {
			continue
		}
		if err := srv.MakeBucket(b); err != nil {
			srv.Stop()
			fmt.Fprintf(os.Stderr, "creating bucket %s: %v\n", b, err)
			os.Exit(1)
		}
	}
	fmt.Println("endpoint", srv.Endpoint)
	for _, e := range srv.Env() {
		fmt.Println("env", e)
	}
	fmt.Println("ready")
	done := make(chan os.Signal, 1)
	signal.Notify(done, syscall.SIGINT, syscall.SIGTERM)
	<-done
	srv.Stop()
}
