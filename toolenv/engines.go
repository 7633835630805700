package toolenv

import (
	"fmt"
	"strings"

	as "github.com/aerospike/aerospike-client-go/v7"

	"asbtools/backup"
	"asbtools/clusterconn"
	"asbtools/compat"
	"asbtools/msg"
	"asbtools/restore"
)

func option(o compat.Opt) backup.Option { return backup.Option{Value: o.Value, Set: o.Set} }

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
		Stream: c.Codec.Settings(),
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
			cfg.BinListErr = e
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
		return nil, e
	}
	for _, p := range t.Partitions {
		cfg.Partitions = append(cfg.Partitions, backup.PartitionRange{Begin: p.Begin, Count: p.Count, Digest: p.Digest})
	}
	for _, n := range t.Nodes {
		cfg.Nodes = append(cfg.Nodes, backup.NodeAddr{Addr: n.Addr, Port: n.Port})
	}
	cfg.FilterExpBytes, cfg.RackIDs = t.FilterExp, t.RackIDs
	if len(t.Seeds) == 0 {
		return nil, compat.HostListError("asbackup", t.SeedText)
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

// RestoreConfig turns a parsed asrestore command line into the engine's
// configuration and its cluster connection (prompt asks for the password
// when it is needed). The lists and the -i value are parsed here; their
// failures travel in the configuration and are reported where the legacy
// tool reports them.
func RestoreConfig(c *compat.RestoreConfig, prompt compat.PromptFunc) (restore.Config, func(int) (*as.Client, error)) {
	ropt := func(o compat.Opt) restore.Option { return restore.Option{Value: o.Value, Set: o.Set} }
	cfg := restore.Config{
		Directory: ropt(c.Directory), DirectoryList: ropt(c.DirectoryList),
		ParentDirectory: ropt(c.ParentDirectory), InputFile: ropt(c.InputFile),
		Validate: c.Validate, NoRecords: c.NoRecords, NoIndexes: c.NoIndexes, NoUDFs: c.NoUDFs,
		IndexesLast: c.IndexesLast, Wait: c.Wait,
		Unique: c.Unique, Replace: c.Replace, NoGeneration: c.NoGeneration, IgnoreRecordError: c.IgnoreRecordError,
		ExtraTTL: c.ExtraTTL, Parallel: c.Parallel,
		MaxAsyncBatches: c.MaxAsyncBatches, BatchSize: c.BatchSize, BatchSizeSet: c.BatchSize != compat.BatchSizeUndefined,
		DisableBatchWrites: c.DisableBatchWrites,
		Timeout:            c.Timeout, SocketTimeout: c.SocketTimeout, TotalTimeout: c.TotalTimeout,
		MaxRetries: c.MaxRetries, RetryScaleFactor: c.RetryScaleFactor,
		Bandwidth: c.Bandwidth, TPS: c.TPS,
		Stream: c.Codec.Settings(),
	}
	if lists, e := c.ParseLists(); e != nil {
		cfg.ListsErr = e
	} else {
		cfg.SourceNamespace, cfg.TargetNamespace = lists.SourceNamespace, lists.TargetNamespace
		cfg.Bins, cfg.Sets = lists.Bins, lists.Sets
	}
	if c.InputFile.Set {
		path := c.InputFile.Value
		size, isStdin, e := compat.ParseStdinSize(path)
		if strings.HasPrefix(path, "-") && path != "-" && !strings.HasPrefix(path, "-:") {
			isStdin = false
		}
		cfg.InputSize, cfg.InputStdin = size, isStdin
		if e != nil {
			cfg.InputErr = e
		}
	}
	return cfg, func(connections int) (*as.Client, error) { return restoreConnect(c, prompt, connections) }
}

// restoreConnect opens the cluster connection of asrestore. Errors carry
// the legacy lines.
func restoreConnect(c *compat.RestoreConfig, prompt compat.PromptFunc, connections int) (*as.Client, error) {
	errLine := func(text string) error { return msg.New(msg.Err("%s", text)) }
	seeds, e := c.Seeds()
	if e != nil {
		// The legacy tool logs the parser's lines as one ERR message.
		return nil, &msg.Error{Lines: []msg.Line{msg.Err("%s", e.Error())}, Err: e}
	}
	set := clusterconn.Settings{Timeout: c.Timeout, ConnectionQueueSize: max(connections, 16)}
	if c.Cluster.AuthMode.Set {
		m, ok := compat.ParseAuthMode(c.Cluster.AuthMode.Value)
		if !ok {
			return nil, errLine(compat.AuthModeError("asrestore", c.Cluster.AuthMode.Value).Lines[0].Text)
		}
		set.Auth = m
	}
	if c.Cluster.User != "" {
		user, pw, err := c.Cluster.Credentials(prompt)
		if err != nil {
			return nil, msg.Wrap(err)
		}
		if !validCredentials(user, pw) {
			// The legacy tool prints this line with printf.
			return nil, msg.New(msg.Stdout(fmt.Sprintf("Invalid password for user name `%s`\n", user)))
		}
		set.User, set.Password = user, pw
	}
	cp, err := clusterconn.ClientPolicy(&c.Cluster, set)
	if err != nil {
		return nil, msg.Wrap(err)
	}
	if len(seeds) == 0 {
		return nil, errLine(fmt.Sprintf("Error while connecting to %s:%d - code -10: Failed to connect at src/main/aerospike/as_cluster.c:416", c.Cluster.Host, c.Cluster.Port))
	}
	client, lines := clusterconn.Connect(cp, seeds, c.Cluster.Host, c.Cluster.Port)
	if client == nil {
		f := &msg.Error{}
		for _, l := range lines {
			f.Lines = append(f.Lines, msg.Err("%s", l))
		}
		return nil, f
	}
	return client, nil
}

// maxCredentialSize is the legacy client's buffer size for the user name
// and for the password (both NUL-terminated).
const maxCredentialSize = 64

// validCredentials reports whether the legacy client accepts the user name
// and password: a non-empty user name, both shorter than its buffers.
func validCredentials(user, password string) bool {
	return user != "" && len(user) < maxCredentialSize && len(password) < maxCredentialSize
}
