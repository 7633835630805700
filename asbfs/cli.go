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
	"asbtools/compat"
	"asbtools/msg"
	"asbtools/toolenv"
)

// Version is printed by --version.
const Version = "asbfs 4.5.8"

const usage = `Usage: asbfs [OPTIONS] BACKUP MOUNTPOINT

Mount an Aerospike backup read-only. BACKUP is a backup directory, a single
.asb file, or a directory whose subdirectories are backups; s3://BUCKET/PATH
is a backup in S3 (the .asb objects under PATH, else the object PATH).

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
      --s3-region REGION          S3 region (or --s3-endpoint-override)
      --s3-profile NAME           AWS credentials profile
      --s3-endpoint-override URL  S3-compatible endpoint
      --s3-max-async-downloads N  ranged downloads at once (default 32)
      --s3-connect-timeout MS     S3 connect timeout (default 1000)
      --s3-log-level LEVEL        Off, Fatal, Error, Warn, Info, Debug, Trace
      --s3-allow-system-proxy     honour the *_proxy environment variables
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
	a, code, ok := parseArgs(argv, stdout, stderr)
	if !ok {
		return code
	}
	// The background child reports through a pipe; the parent waits.
	if a.daemon && os.Getenv(daemonEnv) == "" {
		return runParent(argv, stderr)
	}
	var ready *os.File
	if fd := os.Getenv(daemonEnv); fd != "" {
		n, err := strconv.Atoi(fd)
		if err != nil {
			diag(stderr, "asbfs: %s=%q: %v\n", daemonEnv, fd, err)
			return 1
		}
		ready = os.NewFile(uintptr(n), "ready")
		stderr = ready
	}
	logf := func(format string, args ...any) {
		diag(stderr, "asbfs: "+format+"\n", args...)
	}
	fail := func(format string, args ...any) int {
		logf(format, args...)
		return 1
	}

	opts, code, ok := a.indexOptions(logf)
	if !ok {
		return code
	}
	cfg, err := a.fuseConfig(logf)
	if err != nil {
		return fail("%v", err)
	}
	// Fail fast on a bad mount point, before indexing.
	if st, err := os.Stat(a.mountpoint); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fail("mount point %s: no such directory", a.mountpoint)
		}
		return fail("mount point %s: %v", a.mountpoint, err)
	} else if !st.IsDir() {
		return fail("mount point %s: not a directory", a.mountpoint)
	}
	return a.serve(opts, cfg, ready, logf)
}

// args is asbfs's command line.
type args struct {
	backup, mountpoint string
	// shared are the asrestore options given (see compat.MountFlags), as
	// "--name=value" or "--name".
	shared    []string
	daemon    bool
	mountOpts []string
	tmpDir    string
	verbose   bool
	debug     bool
}

// parseArgs parses argv; ok false means exit with code (help, version, or
// a usage error already printed).
func parseArgs(argv []string, stdout, stderr io.Writer) (a args, code int, ok bool) {
	fl := pflag.NewFlagSet("asbfs", pflag.ContinueOnError)
	fl.SetOutput(io.Discard)
	fl.SortFlags = false
	// The options shared with asrestore are collected in argv order and
	// handed to its parser (compat.ParseMount).
	for _, f := range compat.MountFlags() {
		pf := fl.VarPF(&sharedFlag{name: f.Long, takesArg: f.TakesArg, args: &a.shared}, f.Long, f.Short, "")
		if !f.TakesArg {
			pf.NoOptDefVal = "true"
		}
	}
	var (
		daemon      = fl.BoolP("daemon", "d", false, "")
		mountOpts   = fl.StringArrayP("options", "o", nil, "")
		tmpDir      = fl.String("tmp-dir", "", "")
		verbose     = fl.BoolP("verbose", "v", false, "")
		debug       = fl.Bool("debug", false, "")
		showVersion = fl.BoolP("version", "V", false, "")
		help        = fl.BoolP("help", "h", false, "")
	)
	if err := fl.Parse(argv[1:]); err != nil {
		diag(stderr, "asbfs: %v\n%s", err, usage)
		return a, 2, false
	}
	if *help {
		// A help text that could not be written is a failure.
		if _, err := fmt.Fprint(stdout, usage); err != nil {
			return a, 1, false
		}
		return a, 0, false
	}
	if *showVersion {
		if _, err := fmt.Fprintln(stdout, Version); err != nil {
			return a, 1, false
		}
		return a, 0, false
	}
	if fl.NArg() != 2 {
		diag(stderr, "asbfs: expected BACKUP and MOUNTPOINT, got %d argument(s)\n%s", fl.NArg(), usage)
		return a, 2, false
	}
	a.backup, a.mountpoint, a.daemon, a.mountOpts = fl.Arg(0), fl.Arg(1), *daemon, *mountOpts
	a.tmpDir, a.verbose, a.debug = *tmpDir, *verbose, *debug
	return a, 0, true
}

// sharedFlag records an asrestore option in asrestore's syntax.
type sharedFlag struct {
	name     string
	takesArg bool
	args     *[]string
}

func (f *sharedFlag) Set(v string) error {
	if !f.takesArg {
		if v != "true" {
			return fmt.Errorf("--%s takes no value", f.name)
		}
		*f.args = append(*f.args, "--"+f.name)
		return nil
	}
	*f.args = append(*f.args, "--"+f.name+"="+v)
	return nil
}

func (f *sharedFlag) String() string { return "" }
func (f *sharedFlag) Type() string   { return "string" }

// indexOptions reads the options asbfs shares with asrestore (configuration
// files, compression, encryption, Secret Agent) through asrestore's option
// registry, with its checks, messages, secrets and precedence.
func (a args) indexOptions(logf func(string, ...any)) (index.Options, int, bool) {
	printAll := func(msgs []msg.Line) {
		for _, m := range msgs {
			logf("%s", strings.TrimRight(m.Text, "\n"))
		}
	}
	env := toolenv.Env(toolenv.Options{Diag: func(text string) { logf("%s", strings.TrimRight(text, "\n")) }})
	shared, err := compat.ParseMount(append([]string{"asbfs"}, a.shared...), env)
	if err != nil {
		var ce *msg.Error
		if errors.As(err, &ce) {
			printAll(ce.Lines)
		} else {
			logf("%v", err)
		}
		return index.Options{}, 1, false
	}
	printAll(shared.Messages)
	so, err := shared.Settings().Options()
	if err != nil {
		logf("%s", strings.TrimRight(err.Error(), "\n"))
		return index.Options{}, 1, false
	}
	opts := index.Options{TempDir: a.tmpDir, Cipher: so.Cipher, Key: so.Key,
		Store: toolenv.Store(shared.S3, nil)}
	if so.Compress {
		opts.Compress = index.CompressZstd
	}
	if a.verbose {
		opts.Logf = logf
	}
	return opts, 0, true
}

// fuseConfig builds the mount configuration from -o and --debug.
func (a args) fuseConfig(logf func(string, ...any)) (fsnode.Config, error) {
	cfg := fsnode.Config{Debug: a.debug, Logf: logf}
	for _, o := range a.mountOpts {
		for _, p := range strings.Split(o, ",") {
			switch p {
			case "", "ro":
			case "allow_other":
				cfg.AllowOther = true
			case "rw":
				return cfg, errors.New("-o rw: asbfs is read-only")
			default:
				cfg.Options = append(cfg.Options, p)
			}
		}
	}
	return cfg, nil
}

// serve indexes the backup, mounts it and serves it until it is unmounted
// or a signal asks to unmount. ready, if not nil, is the pipe to the
// --daemon parent, told once the mount is up.
func (a args) serve(opts index.Options, cfg fsnode.Config, ready *os.File, logf func(string, ...any)) int {
	// The index is almost all pointer-free memory, which the garbage
	// collector does not scan, so collecting often is cheap and keeps the
	// process close to the size of its index (unless GOGC says otherwise).
	if os.Getenv("GOGC") == "" {
		rdebug.SetGCPercent(25)
	}
	start := time.Now()
	tree, err := index.Open(a.backup, opts)
	if err != nil {
		logf("%v", err)
		return 1
	}
	// The backup is read-only: releasing it at exit cannot lose data.
	defer func() { _ = tree.Close() }()
	problems := 0
	for _, b := range tree.Backups {
		problems += len(b.Problems)
		if !a.verbose {
			for i, p := range b.Problems {
				if i == 5 {
					logf("%d more problem(s); see %%errors in the mount", len(b.Problems)-5)
					break
				}
				logf("%s", p)
			}
		}
	}
	if a.verbose {
		logf("indexed %d records of %d backup(s) in %v (%d problem(s), index %d bytes)",
			tree.Records(), len(tree.Backups), time.Since(start).Round(time.Millisecond), problems, tree.IndexBytes())
	}
	// Signals are caught before the mount exists: a SIGTERM that arrives as
	// soon as the mount appears must unmount, not kill the process and
	// leave a dead mount behind.
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	srv, err := fsnode.Mount(a.mountpoint, tree, cfg)
	if err != nil {
		logf("cannot mount on %s: %v", a.mountpoint, err)
		return 1
	}
	if a.verbose {
		logf("mounted %s on %s", a.backup, a.mountpoint)
	}
	if ready != nil {
		_, err := fmt.Fprintln(ready, readyLine)
		if cerr := ready.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			// The parent is gone and cannot be told; the mount stays up,
			// as it would once the parent had exited.
			diag(os.Stderr, "asbfs: telling the --daemon parent: %v\n", err)
		}
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
				logf("%v: cannot unmount %s: %v (close the files open in it and retry)", s, a.mountpoint, err)
				continue
			}
			<-done
			if a.verbose {
				logf("unmounted %s", a.mountpoint)
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
		diag(stderr, "asbfs: --daemon: %v\n", err)
		return 1
	}
	r, w, err := os.Pipe()
	if err != nil {
		diag(stderr, "asbfs: --daemon: %v\n", err)
		return 1
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		diag(stderr, "asbfs: --daemon: %v\n", err)
		return 1
	}
	cmd := exec.Command(exe, argv[1:]...)
	cmd.Env = append(os.Environ(), daemonEnv+"=3")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		diag(stderr, "asbfs: --daemon: %v\n", err)
		return 1
	}
	// The child holds its own copies of both descriptors; the parent's
	// copies are released (a failing close of a pipe end or of /dev/null
	// loses nothing).
	_ = w.Close()
	_ = devnull.Close()
	ok := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if sc.Text() == readyLine {
			ok = true
			continue
		}
		diag(stderr, "%s\n", sc.Text())
	}
	if ok {
		// The mounted child runs on its own; Release only frees the
		// parent's handle on it.
		_ = cmd.Process.Release()
		return 0
	}
	if err := cmd.Wait(); err != nil {
		if ee, isExit := err.(*exec.ExitError); isExit {
			return ee.ExitCode()
		}
	}
	return 1
}

// diag writes a diagnostic to the error output. There is nowhere left to
// report a failure to write it, so its error is not checked.
func diag(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...)
}
