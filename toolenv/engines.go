package toolenv

import (
	as "github.com/aerospike/aerospike-client-go/v7"

	"asbtools/backup"
	"asbtools/clusterconn"
	"asbtools/compat"
	"asbtools/msg"
	"asbtools/stream"
)

// compatError converts a command-line failure into a msg.Error with the
// same lines and exit code.
func compatError(ce *compat.Error) *msg.Error {
	e := &msg.Error{Code: ce.Code, Err: ce}
	for _, m := range ce.Messages {
		e.Lines = append(e.Lines, msg.Line{Level: m.Level, Text: m.Text, Stdout: m.Stdout})
	}
	return e
}

func option(o compat.Opt) backup.Option { return backup.Option{Value: o.Value, Set: o.Set} }

// streamSettings converts the compression and encryption options.
func streamSettings(compress compat.CompressMode, level int, encrypt compat.EncryptMode, key *compat.EncryptionKey) stream.Settings {
	s := stream.Settings{Compress: compress == compat.CompressZstd, Level: level}
	switch encrypt {
	case compat.EncryptAES128:
		s.Cipher = stream.AES128
	case compat.EncryptAES256:
		s.Cipher = stream.AES256
	}
	if s.Cipher != stream.None && key != nil {
		s.KeyMaterial, s.KeyPEM = key.Material, key.PEM
	}
	return s
}

// BackupConfig turns a parsed asbackup command line into the engine's
// configuration and its cluster connection (password: the cluster
// password after prompting). The options the legacy tool checks only once
// the backup runs are parsed here; their failures travel in the
// configuration and are reported where the legacy tool reports them.
func BackupConfig(c *compat.BackupConfig, password string) (backup.Config, func() (*as.Client, error)) {
	cfg := backup.Config{
		Namespace: c.Namespace, Sets: c.Sets,
		Directory: option(c.Directory), OutputFile: option(c.OutputFile), Estimate: c.Estimate,
		OutputPrefix: option(c.OutputPrefix), FileLimit: c.FileLimit,
		RemoveFiles: c.RemoveFiles, RemoveArtifacts: c.RemoveArtifacts,
		Continue: option(c.Continue), StateFileDst: option(c.StateFileDst), EstimateSamples: c.EstimateSamples,
		PartitionList: option(c.PartitionList), AfterDigest: option(c.AfterDigest), NodeList: option(c.NodeList),
		FilterExp: option(c.FilterExp), NoTTLOnly: c.NoTTLOnly,
		BinList: option(c.BinList), NoBins: c.NoBins,
		NoRecords: c.NoRecords, NoIndexes: c.NoIndexes, NoUDFs: c.NoUDFs,
		MaxRecords: c.MaxRecords, RecordsPerSecond: c.RecordsPerSecond, Bandwidth: c.Bandwidth,
		Parallel: c.EffectiveParallel(), Compact: c.Compact,
		SocketTimeout: c.SocketTimeout, TotalTimeout: c.TotalTimeout,
		MaxRetries: c.MaxRetries, SleepBetweenRetries: c.SleepBetweenRetries,
		Stream: streamSettings(c.Compress, c.CompressionLevel, c.Encrypt, c.Key),
	}
	if compat.DateActive(c.ModifiedBefore) {
		cfg.ModifiedBefore = c.ModifiedBefore
	}
	if compat.DateActive(c.ModifiedAfter) {
		cfg.ModifiedAfter = c.ModifiedAfter
	}
	if c.BinList.Set {
		bins, e := compat.ParseBinList(c.BinList.Value)
		if e != nil {
			cfg.BinListErr = compatError(e)
		}
		cfg.Bins = bins
	}
	connect, err := backupTargets(c, password, &cfg)
	cfg.TargetsErr = err
	return cfg, connect
}

// backupTargets parses the selection and connection options in the order
// of the legacy backup initialisation and prepares the connection.
func backupTargets(c *compat.BackupConfig, password string, cfg *backup.Config) (func() (*as.Client, error), error) {
	t, e := c.PrepareTargets()
	if e != nil {
		return nil, compatError(e)
	}
	for _, p := range t.Partitions {
		cfg.Partitions = append(cfg.Partitions, backup.PartitionRange{Begin: p.Begin, Count: p.Count, Digest: p.Digest})
	}
	for _, n := range t.Nodes {
		cfg.Nodes = append(cfg.Nodes, backup.NodeAddr{Addr: n.Addr, Port: n.Port})
	}
	cfg.FilterExpBytes, cfg.RackIDs = t.FilterExp, t.RackIDs
	if len(t.Seeds) == 0 {
		return nil, compatError(compat.HostListError("asbackup", t.SeedText))
	}
	// The client's rack awareness stays off (the engine reads the racks).
	cp, err := clusterconn.ClientPolicy(&c.Cluster, clusterconn.Settings{
		Auth: t.Auth, User: c.Cluster.User, Password: password, ConnectionQueueSize: 256,
	})
	if err != nil {
		return nil, msg.Wrap(err)
	}
	return func() (*as.Client, error) {
		client, lines := clusterconn.Connect(cp, t.Seeds, t.SeedText, t.SeedPort)
		if client == nil {
			f := &msg.Error{}
			for _, l := range lines {
				f.Lines = append(f.Lines, msg.Err("%s", l))
			}
			return nil, f
		}
		return client, nil
	}, nil
}
