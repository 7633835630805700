// Command asdsim runs the Aerospike-wire-compatible test server until it
// receives SIGINT or SIGTERM. It prints one "listening <host:port>" line per
// node on stdout once every node accepts connections.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"asbtools/asdsim"
	"asbtools/asdsim/asbload"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("asdsim", flag.ContinueOnError)
	host := fs.String("host", "127.0.0.1", "listen address")
	port := fs.Int("port", 3000, "port of the first node (node i listens on port+i); 0 picks free ports")
	nodes := fs.Int("nodes", 1, "number of nodes")
	namespaces := fs.String("namespaces", "test,bar", "comma-separated namespaces")
	build := fs.String("build", "8.1.2.0", "reported server version")
	clusterName := fs.String("cluster-name", "asd-local", "reported cluster name")
	enterprise := fs.Bool("enterprise", false, "report the Enterprise edition")
	defaultTTL := fs.Uint("default-ttl", 0, "namespace default TTL in seconds (0 = never expire)")
	users := fs.String("users", "", "enable security with these users: user:password[,user:password...]")
	certFile := fs.String("tls-cert", "", "TLS certificate file (PEM); enables TLS with -tls-key")
	keyFile := fs.String("tls-key", "", "TLS private key file (PEM)")
	tlsName := fs.String("tls-name", "", "TLS name of the nodes' certificate, reported to clients for peer nodes")
	seedRecords := fs.Int("seed-records", 0, "store this many synthetic records in the first namespace, set -seed-set")
	seedSet := fs.String("seed-set", "demo", "set of the synthetic records")
	recordSize := fs.Int("record-size", 200, "approximate size in bytes of each synthetic record")
	seedKind := fs.String("seed-kind", "synthetic", "kind of the -seed-records: synthetic (one filler string and a number, -record-size) or people (names, e-mail addresses, cities, words, numbers: about 360 bytes of backup text each)")
	load := fs.String("load", "", "load a plain .asb backup file (records, indexes, UDFs) into the first namespace")
	downtime := fs.Duration("restart-downtime", time.Second, "on SIGUSR1 every node goes down (refusing connections, store kept) for this long; SIGUSR2 drops every connection for this long")
	outageAfter := fs.Int("outage-after-records", 0, "take every node down for -restart-downtime (negative: for good) once this many records were written or scanned")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "asdsim: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg := asdsim.Config{Host: *host, Port: *port, Nodes: *nodes, Build: *build, ClusterName: *clusterName, Enterprise: *enterprise}
	for _, n := range strings.Split(*namespaces, ",") {
		if n = strings.TrimSpace(n); n != "" {
			cfg.Namespaces = append(cfg.Namespaces, asdsim.NamespaceConfig{Name: n, DefaultTTL: uint32(*defaultTTL)})
		}
	}
	if len(cfg.Namespaces) == 0 {
		fmt.Fprintln(os.Stderr, "asdsim: -namespaces: no namespace given")
		return 2
	}
	if *users != "" {
		cfg.Users = map[string]string{}
		for _, up := range strings.Split(*users, ",") {
			u, p, ok := strings.Cut(up, ":")
			if !ok || u == "" {
				fmt.Fprintf(os.Stderr, "asdsim: -users: %q is not user:password\n", up)
				return 2
			}
			cfg.Users[u] = p
		}
	}
	if (*certFile == "") != (*keyFile == "") {
		fmt.Fprintln(os.Stderr, "asdsim: -tls-cert and -tls-key go together")
		return 2
	}
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "asdsim: -tls-cert/-tls-key: %v\n", err)
			return 2
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		cfg.TLSName = *tlsName
	}
	if *seedKind != "synthetic" && *seedKind != "people" {
		fmt.Fprintf(os.Stderr, "asdsim: -seed-kind: %q is neither synthetic nor people\n", *seedKind)
		return 2
	}
	if *seedRecords < 0 || *recordSize < 0 {
		fmt.Fprintln(os.Stderr, "asdsim: -seed-records and -record-size must not be negative")
		return 2
	}
	srv, err := asdsim.Start(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = srv.Close() }() // at exit: the served data lives in memory only
	if *seedRecords > 0 {
		seed := func() error {
			return srv.SeedSynthetic(cfg.Namespaces[0].Name, *seedSet, *seedRecords, *recordSize)
		}
		if *seedKind == "people" {
			seed = func() error { return srv.SeedPeople(cfg.Namespaces[0].Name, *seedSet, *seedRecords, 1) }
		}
		if err := seed(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if *load != "" {
		if err := loadFile(srv, cfg.Namespaces[0].Name, *load); err != nil {
			fmt.Fprintf(os.Stderr, "asdsim: -load: %v\n", err)
			return 1
		}
	}
	if *outageAfter > 0 {
		srv.Faults().OutageAfterRecords(*outageAfter, *downtime)
	}
	for _, a := range srv.Addrs() {
		fmt.Printf("listening %s\n", a)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2)
	for s := range sig {
		switch s {
		case syscall.SIGUSR1:
			fmt.Fprintf(os.Stderr, "asdsim: down for %v\n", *downtime)
			go func() {
				if err := <-srv.Restart(*downtime); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return
				}
				fmt.Fprintln(os.Stderr, "asdsim: up")
			}()
		case syscall.SIGUSR2:
			fmt.Fprintf(os.Stderr, "asdsim: dropping connections for %v\n", *downtime)
			for _, n := range srv.Nodes() {
				n.SetDropConnections(true)
			}
			time.AfterFunc(*downtime, func() {
				for _, n := range srv.Nodes() {
					n.SetDropConnections(false)
				}
				fmt.Fprintln(os.Stderr, "asdsim: accepting connections")
			})
		default:
			return 0
		}
	}
	return 0
}

// loadFile stores the content of a plain backup file in namespace ns.
func loadFile(srv *asdsim.Server, ns, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }() // read-only: loaded once Load returns
	c, err := asbload.Load(srv, ns, f, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "asdsim: loaded %d record(s), %d index(es), %d UDF(s) from %s into %s\n",
		c.Records, c.Indexes, c.UDFs, path, ns)
	return nil
}
