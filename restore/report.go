package restore

import "time"

// Reporter receives the events of a restore in the order the legacy tool
// reports them. Package legacy turns them into the legacy log lines and
// --machine output. Methods may be called from several goroutines.
type Reporter interface {
	// ClientLines are the lines the client logs once connected (Add node);
	// the legacy tool connects twice, so they come twice.
	ClientLines(lines []string)
	// ServerBuild is the server's build string.
	ServerBuild(build string)
	// Started: the restore starts.
	Started()
	// Begin: the restore proper begins (the legacy tool opens its
	// --machine file here). An error ends the run before it starts.
	Begin() error
	// NodesSelected: the restore writes to n nodes.
	NodesSelected(n int)

	// FilesFound: a directory holds n backup files.
	FilesFound(n int, dir string)
	// Validating: the files are validated (--validate, directory input).
	Validating()
	// RestoringRecords: the records are restored next.
	RestoringRecords()
	// FileStarted: a file of a directory is validated or restored.
	FileStarted(path string, validate bool)
	// InputStarted: the single input file (-i) is validated or restored.
	InputStarted(path string, validate bool)
	// FileOpened: a backup file was opened.
	FileOpened(path string)
	// FilesDispatched: every file is handed to a reader (the legacy tool
	// reports it before the readers finish).
	FilesDispatched(validate bool)
	// FileEnd: a reader reached the end of its file.
	FileEnd()

	// IndexValidated, UDFValidated: --validate read an index or a UDF.
	IndexValidated()
	UDFValidated()
	// IndexIgnored, UDFIgnored: --no-indexes or --no-udfs skip a block.
	IndexIgnored()
	UDFIgnored()
	// IndexSkipped: the index belongs to a set that is not restored.
	IndexSkipped(ix IndexName)
	// IndexRestoring: the index is restored next.
	IndexRestoring(ix IndexName)
	// IndexRemoving: the server's index of that name differs; it is
	// removed.
	IndexRemoving(namespace, name string)
	// IndexMatched: the server has the same index already.
	IndexMatched(ix IndexName)
	// IndexCreating: the index is created with context ctx.
	IndexCreating(ix IndexName, ctx string)
	// IndexesSkipped: totals of the indexes not created (unwanted set,
	// already there, different on the server).
	IndexesSkipped(unwanted, matched, mismatched uint32)
	// IndexWaiting: --wait waits for the index to be built.
	IndexWaiting(namespace, name string)
	// UDFRestoring: a UDF module of size bytes is uploaded.
	UDFRestoring(name string, size int)
	// UDFWaiting: --wait waits for the module on every node.
	UDFWaiting(name string)

	// Progress is called when the restore begins, then every second, and
	// once more (Last) at its end, with the counters.
	Progress(p Progress)
	// Failed is a failure reported at once while the run goes on; the
	// run's result is an error.
	Failed(err error)
	// Interrupted: the caller cancelled the run (SIGINT/SIGTERM).
	Interrupted()
}

// IndexName names an index in the index events.
type IndexName struct {
	Namespace, Set, Name, Path string
}

// Progress is a progress tick.
type Progress struct {
	Counts Summary
	// Estimated is the total input size (0: unknown).
	Estimated int64
	Time      time.Time
	// First is the tick taken when the restore begins, Last the one at
	// its end.
	First, Last bool
}

// NopReporter ignores every event. Embed it to implement only some.
type NopReporter struct{}

func (NopReporter) ClientLines([]string)                  {}
func (NopReporter) ServerBuild(string)                    {}
func (NopReporter) Started()                              {}
func (NopReporter) Begin() error                          { return nil }
func (NopReporter) NodesSelected(int)                     {}
func (NopReporter) FilesFound(int, string)                {}
func (NopReporter) Validating()                           {}
func (NopReporter) RestoringRecords()                     {}
func (NopReporter) FileStarted(string, bool)              {}
func (NopReporter) InputStarted(string, bool)             {}
func (NopReporter) FileOpened(string)                     {}
func (NopReporter) FilesDispatched(bool)                  {}
func (NopReporter) FileEnd()                              {}
func (NopReporter) IndexValidated()                       {}
func (NopReporter) UDFValidated()                         {}
func (NopReporter) IndexIgnored()                         {}
func (NopReporter) UDFIgnored()                           {}
func (NopReporter) IndexSkipped(IndexName)                {}
func (NopReporter) IndexRestoring(IndexName)              {}
func (NopReporter) IndexRemoving(string, string)          {}
func (NopReporter) IndexMatched(IndexName)                {}
func (NopReporter) IndexCreating(IndexName, string)       {}
func (NopReporter) IndexesSkipped(uint32, uint32, uint32) {}
func (NopReporter) IndexWaiting(string, string)           {}
func (NopReporter) UDFRestoring(string, int)              {}
func (NopReporter) UDFWaiting(string)                     {}
func (NopReporter) Progress(Progress)                     {}
func (NopReporter) Failed(error)                          {}
func (NopReporter) Interrupted()                          {}
