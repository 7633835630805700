// Package asbfs is the asbfs command: it mounts a backup (a backup
// directory, a single .asb file, or a directory holding several backups) as
// a read-only FUSE file system. Package index builds the record-offset
// index, package render the JSON views and file names, package fsnode the
// file system; see man/asbfs.1 for the layout.
package asbfs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	rdebug "runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/spf13/pflag"

	"asbtools/asbfs/fsnode"
	"asbtools/asbfs/index"
	"asbtools/conf"
	"asbtools/secretagent"
	"asbtools/stream"
)

// Version is printed by --version.
const Version = "asbfs 4.5.8"

const usage = `Usage: asbfs [OPTIONS] BACKUP MOUNTPOINT

Mount an Aerospike backup read-only. BACKUP is a backup directory, a single
.asb file, or a directory whose subdirectories are backups.

Options:
  -z, --compress zstd             files are zstd-compressed (detected when absent)
  -y, --encrypt aes128|aes256     files are encrypted
      --encryption-key-file PATH  PEM private key (or secrets:[resource:]key)
      --encryption-key-env NAME   environment variable holding the base64 key
      --sa-address HOST[:PORT]    Secret Agent address (default 127.0.0.1)
      --sa-port PORT              Secret Agent port (default 3005)
      --sa-timeout MS             Secret Agent timeout (default 1000)
      --sa-cafile PATH            Secret Agent CA file (enables TLS)
      --config-file PATH          read this astools.conf too
      --instance NAME             use the [asrestore_NAME] sections
      --no-config-file            read no configuration file
      --only-config-file PATH     read only this configuration file
  -d, --daemon                    run in the background once mounted
  -o OPTIONS                      mount options (allow_other, ...)
      --tmp-dir DIR               where compressed files are decompressed
  -v, --verbose                   report progress and every problem
      --debug                     log every FUSE request
  -V, --version                   print the version
  -h, --help                      print this help
`

// daemonEnv marks the background child of --daemon; its value is the
// descriptor number of the pipe back to the parent.
const daemonEnv = "ASBFS_DAEMON_FD"

// Main runs asbfs with argv (argv[0] is the program name) and returns the
// exit code.
func Main(argv []string, stdout, stderr io.Writer) int {
	fl := pflag.NewFlagSet("asbfs", pflag.ContinueOnError)
	fl.SetOutput(io.Discard)
	fl.SortFlags = false
	var (
		compress    = fl.StringP("compress", "z", "", "")
		encrypt     = fl.StringP("encrypt", "y", "", "")
		keyFile     = fl.String("encryption-key-file", "", "")
		keyEnv      = fl.String("encryption-key-env", "", "")
		saAddress   = fl.String("sa-address", "", "")
		saPort      = fl.String("sa-port", "", "")
		saTimeout   = fl.String("sa-timeout", "", "")
		saCAFile    = fl.String("sa-cafile", "", "")
		configFile  = fl.String("config-file", "", "")
		instance    = fl.String("instance", "", "")
		noConfig    = fl.Bool("no-config-file", false, "")
		onlyConfig  = fl.String("only-config-file", "", "")
		daemon      = fl.BoolP("daemon", "d", false, "")
		mountOpts   = fl.StringArrayP("options", "o", nil, "")
		tmpDir      = fl.String("tmp-dir", "", "")
		verbose     = fl.BoolP("verbose", "v", false, "")
		debug       = fl.Bool("debug", false, "")
		showVersion = fl.BoolP("version", "V", false, "")
		help        = fl.BoolP("help", "h", false, "")
	)
	if err := fl.Parse(argv[1:]); err != nil {
		fmt.Fprintf(stderr, "asbfs: %v\n%s", err, usage)
		return 2
	}
	if *help {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if *showVersion {
		fmt.Fprintln(stdout, Version)
		return 0
	}
	if fl.NArg() != 2 {
		fmt.Fprintf(stderr, "asbfs: expected BACKUP and MOUNTPOINT, got %d argument(s)\n%s", fl.NArg(), usage)
		return 2
	}
	backup, mountpoint := fl.Arg(0), fl.Arg(1)

	// The background child reports through a pipe; the parent waits.
	if *daemon && os.Getenv(daemonEnv) == "" {
		return runParent(argv, stderr)
	}
	var ready *os.File
	if fd := os.Getenv(daemonEnv); fd != "" {
		n, _ := strconv.Atoi(fd)
		ready = os.NewFile(uintptr(n), "ready")
		stderr = ready
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "asbfs: "+format+"\n", args...)
	}
	fail := func(format string, args ...any) int {
		logf(format, args...)
		return 1
	}

	// Configuration files: the [asrestore] and [secret-agent] sections.
	settings, err := conf.Load(conf.LoadOptions{Tool: "asrestore", ConfigFile: firstNonEmpty(*onlyConfig, *configFile),
		OnlyConfigFile: *onlyConfig != "", NoConfigFile: *noConfig, Instance: *instance,
		Diag: func(l conf.Line) { logf("%s", strings.TrimRight(l.Text, "\n")) }})
	if err != nil {
		var ce *conf.Error
		if errors.As(err, &ce) {
			for _, l := range ce.Lines {
				logf("%s", strings.TrimRight(l.Text, "\n"))
			}
			return 1
		}
		return fail("%v", err)
	}
	var keyPEM []byte
	sa := secretagent.DefaultConfig()
	for _, s := range settings {
		v := fmt.Sprint(s.Value)
		switch s.Section + "." + s.Key {
		case "asrestore.compress":
			if !fl.Changed("compress") {
				*compress = v
			}
		case "asrestore.encrypt":
			if !fl.Changed("encrypt") {
				*encrypt = v
			}
		case "asrestore.encryption-key-file":
			if !fl.Changed("encryption-key-file") && !fl.Changed("encryption-key-env") {
				*keyFile, *keyEnv = v, ""
				if s.Secret {
					keyPEM = []byte(v)
				}
			}
		case "asrestore.encryption-key-env":
			if !fl.Changed("encryption-key-file") && !fl.Changed("encryption-key-env") {
				*keyEnv, *keyFile = v, ""
			}
		case "secret-agent.sa-address":
			sa.Address = v
		case "secret-agent.sa-port":
			sa.Port = v
		case "secret-agent.sa-timeout":
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
				sa.Timeout = time.Duration(ms) * time.Millisecond
			}
		case "secret-agent.sa-cafile":
			sa.CAFile = v
		}
	}
	if *saAddress != "" {
		host, port, has := secretagent.SplitAddress(*saAddress)
		sa.Address = host
		if has {
			sa.Port = port
		}
	}
	if *saPort != "" {
		sa.Port = *saPort
	}
	if *saTimeout != "" {
		ms, err := strconv.ParseInt(*saTimeout, 10, 32)
		if err != nil || ms < 0 {
			return fail("Invalid secret agent timeout value %s", *saTimeout)
		}
		sa.Timeout = time.Duration(ms) * time.Millisecond
	}
	if *saCAFile != "" {
		sa.CAFile = *saCAFile
	}

	opts := index.Options{TempDir: *tmpDir}
	switch *compress {
	case "":
	case "zstd":
		opts.Compress = index.CompressZstd
	default:
		return fail("Invalid compression type %q", *compress)
	}
	if *encrypt != "" {
		c, ok := stream.ParseCipher(*encrypt)
		if !ok {
			return fail("Invalid encryption type %q", *encrypt)
		}
		opts.Cipher = c
	}
	if fl.Changed("encryption-key-file") && fl.Changed("encryption-key-env") {
		return fail("Cannot specify both encryption-key-file and encryption-key-env")
	}
	hasKey := *keyFile != "" || *keyEnv != ""
	if (opts.Cipher != stream.None) != hasKey {
		return fail("Must specify both encryption mode and a private key file/environment variable")
	}
	if hasKey {
		var material []byte
		switch {
		case keyPEM != nil:
			material, err = stream.KeyMaterialFromPEM(keyPEM)
		case *keyFile != "" && secretagent.IsRef(*keyFile):
			var cl *secretagent.Client
			cl, err = secretagent.NewClient(sa)
			if err == nil {
				var pem []byte
				pem, err = cl.Resolve(*keyFile)
				if err == nil {
					material, err = stream.KeyMaterialFromPEM(pem)
				}
			}
			if err != nil {
				err = fmt.Errorf("secret-agent: %w", err)
			}
		case *keyFile != "":
			material, err = stream.KeyMaterialFromPEMFile(*keyFile)
		default:
			material, err = stream.KeyMaterialFromEnv(*keyEnv)
		}
		var sae *secretagent.Error
		if errors.As(err, &sae) {
			// The Secret Agent's own lines, as the other tools log them.
			for _, l := range sae.LogLines() {
				logf("%s", l)
			}
			return 1
		}
		if err != nil {
			return fail("%s", strings.TrimRight(err.Error(), "\n"))
		}
		opts.Key = stream.DeriveKey(material, opts.Cipher)
	}

	cfg := fsnode.Config{Debug: *debug, Logf: logf}
	for _, o := range *mountOpts {
		for _, p := range strings.Split(o, ",") {
			switch p {
			case "":
			case "allow_other":
				cfg.AllowOther = true
			case "ro", "rw":
				if p == "rw" {
					return fail("-o rw: asbfs is read-only")
				}
			default:
				cfg.Options = append(cfg.Options, p)
			}
		}
	}
	// Fail fast on a bad mount point, before indexing.
	if st, err := os.Stat(mountpoint); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fail("mount point %s: no such directory", mountpoint)
		}
		return fail("mount point %s: %v", mountpoint, err)
	} else if !st.IsDir() {
		return fail("mount point %s: not a directory", mountpoint)
	}

	// The index is almost all pointer-free memory, which the garbage
	// collector does not scan, so collecting often is cheap and keeps the
	// process close to the size of its index (unless GOGC says otherwise).
	if os.Getenv("GOGC") == "" {
		rdebug.SetGCPercent(25)
	}
	start := time.Now()
	if *verbose {
		opts.Logf = logf
	}
	tree, err := index.Open(backup, opts)
	if err != nil {
		return fail("%v", err)
	}
	defer tree.Close()
	problems := 0
	for _, b := range tree.Backups {
		problems += len(b.Problems)
		if !*verbose {
			for i, p := range b.Problems {
				if i == 5 {
					logf("%d more problem(s); see %%errors in the mount", len(b.Problems)-5)
					break
				}
				logf("%s", p)
			}
		}
	}
	if *verbose {
		logf("indexed %d records of %d backup(s) in %v (%d problem(s), index %d bytes)",
			tree.Records(), len(tree.Backups), time.Since(start).Round(time.Millisecond), problems, tree.IndexBytes())
	}
	// Signals are caught before the mount exists: a SIGTERM that arrives as
	// soon as the mount appears must unmount, not kill the process and
	// leave a dead mount behind.
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	srv, err := fsnode.Mount(mountpoint, tree, cfg)
	if err != nil {
		return fail("cannot mount on %s: %v", mountpoint, err)
	}
	if *verbose {
		logf("mounted %s on %s", backup, mountpoint)
	}
	if ready != nil {
		fmt.Fprintln(ready, readyLine)
		ready.Close()
		logf = func(string, ...any) {}
	}
	done := make(chan struct{})
	go func() {
		srv.Wait()
		close(done)
	}()
	for {
		select {
		case <-done:
			return 0
		case s := <-sig:
			if err := unmount(srv); err != nil {
				logf("%v: cannot unmount %s: %v (close the files open in it and retry)", s, mountpoint, err)
				continue
			}
			<-done
			if *verbose {
				logf("unmounted %s", mountpoint)
			}
			return 0
		}
	}
}

// unmount unmounts, retrying for a moment: right after a file was closed
// the kernel can still report the mount busy.
func unmount(srv *fuse.Server) error {
	var err error
	for range 20 {
		if err = srv.Unmount(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

const readyLine = "\x00asbfs-ready"

// runParent starts the background child and waits until it has mounted (or
// failed), copying its messages to stderr.
func runParent(argv []string, stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "asbfs: --daemon: %v\n", err)
		return 1
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "asbfs: --daemon: %v\n", err)
		return 1
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintf(stderr, "asbfs: --daemon: %v\n", err)
		return 1
	}
	cmd := exec.Command(exe, argv[1:]...)
	cmd.Env = append(os.Environ(), daemonEnv+"=3")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "asbfs: --daemon: %v\n", err)
		return 1
	}
	w.Close()
	devnull.Close()
	ok := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if sc.Text() == readyLine {
			ok = true
			continue
		}
		fmt.Fprintln(stderr, sc.Text())
	}
	if ok {
		cmd.Process.Release()
		return 0
	}
	if err := cmd.Wait(); err != nil {
		if ee, isExit := err.(*exec.ExitError); isExit {
			return ee.ExitCode()
		}
	}
	return 1
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
