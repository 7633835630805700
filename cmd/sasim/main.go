// Command sasim runs a Secret Agent test peer for shell tests.
//
//	sasim -secrets secrets.json [-listen 127.0.0.1:0] [-tls -ca-out ca.pem] [-unix /path/sock] [-fault name]
//
// secrets.json maps resource → key → plain value ("" is the default
// resource). The bound address is printed on stdout; sasim serves until
// interrupted. Faults: none, slow, garbage, badjson, oversized, close, short,
// error, notbase64.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"asbtools/secretagent/satest"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on")
	useTLS := flag.Bool("tls", false, "serve TLS with a generated certificate")
	caOut := flag.String("ca-out", "", "write the generated CA certificate (PEM) here")
	unix := flag.String("unix", "", "also serve on this Unix socket path")
	secrets := flag.String("secrets", "", "JSON file: {resource: {key: value}}")
	fault := flag.String("fault", "none", "fault mode")
	flag.Parse()

	m := map[string]map[string]string{}
	if *secrets != "" {
		b, err := os.ReadFile(*secrets)
		if err != nil {
			fail(err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			fail(fmt.Errorf("%s: %w", *secrets, err))
		}
	}
	faults := map[string]satest.Fault{"none": satest.FaultNone, "slow": satest.FaultSlow, "garbage": satest.FaultGarbage,
		"badjson": satest.FaultBadJSON, "oversized": satest.FaultOversized, "close": satest.FaultClose,
		"short": satest.FaultShortBody, "error": satest.FaultError, "notbase64": satest.FaultNotBase64}
	f, ok := faults[*fault]
	if !ok {
		fail(fmt.Errorf("unknown fault %q", *fault))
	}
	srv := satest.NewServer(m)
	srv.SetFault(f, 10*time.Second, "")
	if *useTLS {
		pki, err := satest.NewPKI("127.0.0.1", "localhost")
		if err != nil {
			fail(err)
		}
		if *caOut != "" {
			if err := os.WriteFile(*caOut, pki.CAPEM, 0o644); err != nil {
				fail(err)
			}
		}
		addr, err := srv.ListenTLS(*listen, pki.Cert)
		if err != nil {
			fail(err)
		}
		fmt.Println(addr)
	} else {
		addr, err := srv.ListenTCP(*listen)
		if err != nil {
			fail(err)
		}
		fmt.Println(addr)
	}
	if *unix != "" {
		if err := srv.ListenUnix(*unix); err != nil {
			fail(err)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	_ = srv.Close()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sasim:", err)
	os.Exit(1)
}
