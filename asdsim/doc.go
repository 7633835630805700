// Package asdsim is an in-process test server that speaks the Aerospike wire
// protocol well enough for aerospike-client-go v7 and the legacy C client to
// connect, tend, read, write, batch, scan and administer it over TCP.
//
// It keeps records in memory (namespaces of 4096 partitions each, bins kept in
// insertion order with their particle type and raw bytes), answers the info
// commands of a real 8.1 node, can run as a cluster of several nodes in one
// process, and offers fault hooks for reliability tests.
//
// Typical use in a test:
//
//	srv, err := asdsim.Start(asdsim.Config{})
//	...
//	defer srv.Close()
//	srv.Put("test", asdsim.Record{Set: "demo", Key: asdsim.StringKey("k1"),
//		Bins: []asdsim.Bin{asdsim.IntBin("a", 1)}})
//	client, _ := aerospike.NewClient(srv.Host(), srv.Port())
package asdsim
