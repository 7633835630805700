package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithylog "github.com/aws/smithy-go/logging"
)

// S3Prefix starts every S3 path: s3://bucket/key.
const S3Prefix = "s3://"

// S3 limits (legacy file_proxy.h).
const (
	S3MinPartSize = 5 << 20
	S3MaxPartSize = 5 << 30
	S3MaxParts    = 10000
	// S3MaxObjectSize is the largest object (5 TiB).
	S3MaxObjectSize = 5 << 40
)

// S3Options configure the S3 backend (the --s3-* options).
type S3Options struct {
	Region   string
	Profile  string
	Endpoint string
	// MinPartSize is the multipart part size in bytes (0: 5 MiB).
	MinPartSize int64
	// MaxAsyncUploads bounds the parts being uploaded at once (default 16).
	MaxAsyncUploads int
	// MaxAsyncDownloads bounds the ranged downloads running at once
	// (default 32).
	MaxAsyncDownloads int
	// ConnectTimeout is the TCP connect timeout (default 1 s).
	ConnectTimeout time.Duration
	// LogLevel is the --s3-log-level value (Off … Trace).
	LogLevel string
	// AllowSystemProxy honours the *_proxy environment variables.
	AllowSystemProxy bool
	// Log receives the SDK's log lines at Debug/Trace (nil: stderr).
	Log func(msg string)
	// PartChecksums says when each part's CRC-32C is sent (header
	// x-amz-checksum-crc32c) for the store to check it (the value of
	// ASBACKUP_S3_CHECKSUM): "" to plain http:// endpoints only, where
	// nothing else protects a part signed with UNSIGNED-PAYLOAD (https:
	// TLS does); "crc32c" always; "none" never.
	PartChecksums string
	// OnPartSize, if set, is called with the size of the upload parts
	// whenever parts larger than all before are first used (the first
	// part, a file expected to be large, the ramp past part 8,000), so
	// that the memory limit follows the UploadMemoryBound of the parts in
	// use. Calls are serialized; it must not call into the store.
	OnPartSize func(size int64)
}

// PartSize returns the part size uploads start with.
func (o S3Options) PartSize() int64 {
	if o.MinPartSize > 0 {
		return o.MinPartSize
	}
	return S3MinPartSize
}

func (o S3Options) uploads() int {
	if o.MaxAsyncUploads > 0 {
		return o.MaxAsyncUploads
	}
	return 16
}

func (o S3Options) downloads() int {
	if o.MaxAsyncDownloads > 0 {
		return o.MaxAsyncDownloads
	}
	return 32
}

// UploadMemoryBound returns the most memory the part buffers of a backup
// with the given number of open files take with parts of partSize bytes
// (PartSize at the start, what OnPartSize reports later): one part being
// filled per open file plus the parts being uploaded.
func (o S3Options) UploadMemoryBound(openFiles int, partSize int64) int64 {
	return int64(openFiles+o.uploads()) * partSize
}

// ErrS3NotEnabled is the legacy refusal of S3 without region or endpoint.
var ErrS3NotEnabled = errors.New("S3 API must be enabled by specifying a region if no endpoint override is given.")

// S3Path is a parsed s3://bucket/key path.
type S3Path struct {
	Bucket, Key string
}

// ParseS3Path splits s3://bucket/key. Runs of '/' in the key are collapsed
// and a leading '/' is dropped, so "s3://b/dir/" + "/" + "f.asb" names the
// key "dir/f.asb".
func ParseS3Path(p string) (S3Path, error) {
	rest := strings.TrimPrefix(p, S3Prefix)
	i := strings.IndexByte(rest, '/')
	if !IsS3Path(p) || i < 0 {
		return S3Path{}, fmt.Errorf("Failed to parse S3 path \"%s\", bucket name not followed by '/'.", p)
	}
	if i == 0 {
		return S3Path{}, fmt.Errorf("Failed to parse S3 path \"%s\", empty bucket name.", p)
	}
	key := rest[i+1:]
	for strings.Contains(key, "//") {
		key = strings.ReplaceAll(key, "//", "/")
	}
	return S3Path{Bucket: rest[:i], Key: strings.TrimPrefix(key, "/")}, nil
}

// dirPrefix returns the key prefix of the objects "in" a directory key.
func dirPrefix(key string) string {
	key = strings.TrimRight(key, "/")
	if key == "" {
		return ""
	}
	return key + "/"
}

// isBackupKey reports whether an object key names a backup file: its last
// path element ends in ".asb" and is longer than that.
func isBackupKey(key string) bool {
	return IsBackupFileName(key[strings.LastIndexByte(key, '/')+1:])
}

// S3Store is the Store of S3 objects.
type S3Store struct {
	opts      S3Options
	partCRC   bool // parts carry their CRC-32C
	client    *s3.Client
	uploads   chan struct{}
	downloads chan struct{}
	parts     bufPool      // upload part buffers
	chunks    bufPool      // download chunk buffers
	readers   atomic.Int32 // objects being read sequentially
	held      atomic.Int32 // chunks they hold
	hooks     atomic.Pointer[UploadHooks]
}

// NewS3Store creates the S3 client: the standard AWS credential chain
// (environment, shared config and credentials files, opts.Profile), the
// region, an endpoint override with path-style addressing, request
// checksums only where the API requires them (S3-compatible stores reject
// the SDK's default ones), the connect timeout and retries with backoff.
func NewS3Store(opts S3Options) (*S3Store, error) {
	if opts.Region == "" && opts.Endpoint == "" {
		return nil, ErrS3NotEnabled
	}
	switch opts.PartChecksums {
	case "", "crc32c", "none":
	default:
		return nil, fmt.Errorf("ASBACKUP_S3_CHECKSUM=%s: unknown value, must be crc32c or none", opts.PartChecksums)
	}
	conns := max(opts.uploads(), opts.downloads())
	timeout := opts.ConnectTimeout
	if timeout <= 0 {
		timeout = time.Second
	}
	hc := awshttp.NewBuildableClient().WithDialerOptions(func(d *net.Dialer) {
		d.Timeout = timeout
	}).WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = conns * 2
		tr.MaxIdleConnsPerHost = conns * 2
		if opts.AllowSystemProxy {
			tr.Proxy = http.ProxyFromEnvironment
		} else {
			tr.Proxy = nil
		}
	})
	lopts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(hc),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				// 0.25, 0.5, 1, 2, 2 s: a store that restarts within
				// about 5 s is waited for.
				o.MaxAttempts = 6
				o.MaxBackoff = 2 * time.Second
				o.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
					return min(250*time.Millisecond<<(attempt-1), 2*time.Second), nil
				})
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	if opts.Region != "" {
		lopts = append(lopts, config.WithRegion(opts.Region))
	}
	if opts.Profile != "" {
		lopts = append(lopts, config.WithSharedConfigProfile(opts.Profile))
	}
	if mode, ok := s3LogMode(opts.LogLevel); ok {
		out := opts.Log
		if out == nil {
			out = func(m string) { fmt.Fprintln(os.Stderr, m) }
		}
		lopts = append(lopts, config.WithClientLogMode(mode),
			config.WithLogger(smithylog.LoggerFunc(func(c smithylog.Classification, f string, v ...any) {
				out(fmt.Sprintf("[S3 %s] %s", c, fmt.Sprintf(f, v...)))
			})))
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), lopts...)
	if err != nil {
		return nil, fmt.Errorf("Failed to load the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		// An endpoint override without a region: any region signs.
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			ep := opts.Endpoint
			if !strings.Contains(ep, "://") {
				ep = "http://" + ep // bare host:port: plain HTTP, as legacy
			}
			o.BaseEndpoint = aws.String(ep)
			o.UsePathStyle = true
		}
		// No "Expect: 100-continue" round trip before each part.
		o.ContinueHeaderThresholdBytes = -1
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	// Plain HTTP: an endpoint override without TLS (or AWS_ENDPOINT_URL).
	plain := strings.HasPrefix(strings.ToLower(aws.ToString(client.Options().BaseEndpoint)), "http://")
	return &S3Store{
		opts:      opts,
		partCRC:   opts.PartChecksums == "crc32c" || opts.PartChecksums == "" && plain,
		client:    client,
		uploads:   make(chan struct{}, opts.uploads()),
		downloads: make(chan struct{}, opts.downloads()),
		parts:     bufPool{grew: opts.OnPartSize},
	}, nil
}

// s3LogMode maps --s3-log-level to the SDK's log mode.
func s3LogMode(level string) (aws.ClientLogMode, bool) {
	switch strings.ToLower(level) {
	case "debug":
		return aws.LogRetries | aws.LogRequest | aws.LogResponse, true
	case "trace":
		return aws.LogRetries | aws.LogRequest | aws.LogResponse | aws.LogSigning, true
	case "info", "warn":
		return aws.LogRetries, true
	}
	return 0, false
}

// Client returns the SDK client.
func (s *S3Store) Client() *s3.Client { return s.client }

// S3ErrorText returns the message of an S3 error as the legacy tool prints
// it (the service's message), or a short description of a connection
// failure.
func S3ErrorText(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if m := ae.ErrorMessage(); m != "" {
			return m
		}
		switch ae.ErrorCode() {
		case "NotFound":
			return "Not Found"
		case "Forbidden":
			return "Access Denied"
		}
		return ae.ErrorCode()
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return "Unable to connect to endpoint: " + oe.Error()
	}
	return err.Error()
}

// s3Err wraps an S3 failure with its legacy text.
type s3Err struct {
	prefix string
	err    error
}

func (e *s3Err) Error() string { return e.prefix + S3ErrorText(e.err) }
func (e *s3Err) Unwrap() error { return e.err }

func wrapS3(err error) error {
	if err == nil {
		return nil
	}
	return &s3Err{err: err}
}

func isNotFound(err error) bool {
	var nk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey")
}

func isNoSuchUpload(err error) bool {
	var nu *types.NoSuchUpload
	if errors.As(err, &nu) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NoSuchUpload"
}

var bg = context.Background()

// PrepareDirectory implements Store: there are no directories in S3, only
// the legacy line is logged.
func (s *S3Store) PrepareDirectory(dir string, log Logf) error {
	if _, err := ParseS3Path(dir); err != nil {
		return err
	}
	log(true, "Directory "+dir+" prepared for backup")
	return nil
}

// listKeys returns every object under prefix (paginated).
func (s *S3Store) listKeys(bucket, prefix string, fn func(key string, size int64) error) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(bg)
		if err != nil {
			return wrapS3(err)
		}
		for _, o := range page.Contents {
			if err := fn(aws.ToString(o.Key), aws.ToInt64(o.Size)); err != nil {
				return err
			}
		}
	}
	return nil
}

type upload struct{ key, id string }

// listUploads returns the incomplete multipart uploads under prefix. Some
// S3-compatible stores (MinIO) list uploads only for an exact key or for
// the whole bucket: when the prefix finds none, the whole bucket's uploads
// are listed and filtered here.
func (s *S3Store) listUploads(bucket, prefix string) ([]upload, error) {
	out, err := s.listUploadsWith(bucket, prefix)
	if err != nil || len(out) > 0 || prefix == "" {
		return out, err
	}
	all, err := s.listUploadsWith(bucket, "")
	if err != nil {
		return nil, err
	}
	for _, u := range all {
		if strings.HasPrefix(u.key, prefix) {
			out = append(out, u)
		}
	}
	return out, nil
}

func (s *S3Store) listUploadsWith(bucket, prefix string) ([]upload, error) {
	var out []upload
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	for {
		res, err := s.client.ListMultipartUploads(bg, in)
		if err != nil {
			return nil, wrapS3(err)
		}
		for _, u := range res.Uploads {
			out = append(out, upload{aws.ToString(u.Key), aws.ToString(u.UploadId)})
		}
		if !aws.ToBool(res.IsTruncated) {
			return out, nil
		}
		in.KeyMarker, in.UploadIdMarker = res.NextKeyMarker, res.NextUploadIdMarker
	}
}

// HasEntry implements EntryChecker: the key has an incomplete upload
// (listed for the exact key) or is an object.
func (s *S3Store) HasEntry(path string) (bool, error) {
	p, err := ParseS3Path(path)
	if err != nil {
		return false, err
	}
	ups, err := s.listUploadsWith(p.Bucket, p.Key)
	if err != nil {
		return false, err
	}
	for _, u := range ups {
		if u.key == p.Key {
			return true, nil
		}
	}
	_, err = s.client.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)})
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, wrapS3(err)
}

// BackupEntries implements Store: the backup objects and incomplete
// uploads under dir/, named relative to it.
func (s *S3Store) BackupEntries(dir string) ([]string, error) {
	p, err := ParseS3Path(dir)
	if err != nil {
		return nil, err
	}
	pre := dirPrefix(p.Key)
	seen := map[string]bool{}
	var names []string
	add := func(key string) {
		n := strings.TrimPrefix(key, pre)
		if isBackupKey(n) && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	if err := s.listKeys(p.Bucket, pre, func(k string, _ int64) error { add(k); return nil }); err != nil {
		return nil, err
	}
	ups, err := s.listUploads(p.Bucket, pre)
	if err != nil {
		return nil, err
	}
	for _, u := range ups {
		add(u.key)
	}
	return names, nil
}

// deleteKeys deletes objects in batches of 1000.
func (s *S3Store) deleteKeys(bucket string, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		ids := make([]types.ObjectIdentifier, n)
		for i, k := range keys[:n] {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		res, err := s.client.DeleteObjects(bg, &s3.DeleteObjectsInput{Bucket: aws.String(bucket),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return wrapS3(err)
		}
		if len(res.Errors) > 0 {
			e := res.Errors[0]
			return fmt.Errorf("Error while deleting S3 object s3://%s/%s: %s", bucket, aws.ToString(e.Key), aws.ToString(e.Message))
		}
		keys = keys[n:]
	}
	return nil
}

// clear deletes (or, without remove, refuses) the backup objects and
// incomplete backup uploads under dir.
func (s *S3Store) clear(dir string, remove bool, refusal func(p S3Path) error) error {
	p, err := ParseS3Path(dir)
	if err != nil {
		return err
	}
	pre := dirPrefix(p.Key)
	var keys []string
	if err := s.listKeys(p.Bucket, pre, func(k string, _ int64) error {
		if isBackupKey(k) {
			if !remove {
				return refusal(p)
			}
			keys = append(keys, k)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := s.deleteKeys(p.Bucket, keys); err != nil {
		return err
	}
	ups, err := s.listUploads(p.Bucket, pre)
	if err != nil {
		return err
	}
	for _, u := range ups {
		if !isBackupKey(u.key) {
			continue
		}
		if !remove {
			return refusal(p)
		}
		if _, err := s.client.AbortMultipartUpload(bg, &s3.AbortMultipartUploadInput{Bucket: aws.String(p.Bucket),
			Key: aws.String(u.key), UploadId: aws.String(u.id)}); err != nil && !isNoSuchUpload(err) {
			return wrapS3(err)
		}
	}
	return nil
}

// ClearDirectory implements Store (`S3 directory %s in bucket %s seems to
// contain an existing backup; use -r to clear the directory`).
func (s *S3Store) ClearDirectory(dir string, remove bool) error {
	return s.clear(dir, remove, func(p S3Path) error {
		return fmt.Errorf("S3 directory %s in bucket %s seems to contain an existing backup; use -r to clear the directory", p.Key, p.Bucket)
	})
}

// PrepareOutputFile implements Store (`S3 object s3:%s/%s exists, pass
// --remove-files to replace it`).
func (s *S3Store) PrepareOutputFile(path string, remove bool) error {
	p, err := ParseS3Path(path)
	if err != nil {
		return err
	}
	_, err = s.client.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)})
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return wrapS3(err)
	}
	if !remove {
		return fmt.Errorf("S3 object s3:%s/%s exists, pass --remove-files to replace it", p.Bucket, p.Key)
	}
	return s.Remove(path)
}

// RemoveArtifacts implements Store: the object, or every backup object
// and incomplete backup upload under the directory.
func (s *S3Store) RemoveArtifacts(file, dir string, log Logf) error {
	if file != "" {
		log(true, "Deleting output file "+file)
		return s.Remove(file)
	}
	log(true, "Deleting backup directory "+dir)
	return s.clear(dir, true, nil)
}

// Remove implements Store: the object and any incomplete upload of its key.
func (s *S3Store) Remove(path string) error {
	p, err := ParseS3Path(path)
	if err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)}); err != nil && !isNotFound(err) {
		return wrapS3(err)
	}
	ups, err := s.listUploads(p.Bucket, p.Key)
	if err != nil {
		return err
	}
	for _, u := range ups {
		if u.key == p.Key {
			if _, err := s.client.AbortMultipartUpload(bg, &s3.AbortMultipartUploadInput{Bucket: aws.String(p.Bucket),
				Key: aws.String(u.key), UploadId: aws.String(u.id)}); err != nil && !isNoSuchUpload(err) {
				return wrapS3(err)
			}
		}
	}
	return nil
}

// FreeSpace implements Store: not applicable.
func (s *S3Store) FreeSpace(string) (uint64, bool) { return 0, false }

// ListInput implements Store: every object under dir/ (at any depth)
// whose name ends in ".asb", listed page by page.
func (s *S3Store) ListInput(dir string) ([]InputFile, int64, error) {
	p, err := ParseS3Path(dir)
	if err != nil {
		return nil, 0, inputError(err, err.Error())
	}
	var files []InputFile
	var total int64
	err = s.listKeys(p.Bucket, dirPrefix(p.Key), func(k string, size int64) error {
		if isBackupKey(k) {
			files = append(files, InputFile{Path: S3Prefix + p.Bucket + "/" + k, Size: size})
			total += size
		}
		return nil
	})
	if err != nil {
		return nil, 0, inputError(err, err.Error())
	}
	return files, total, nil
}

var _ io.ReaderAt = (*s3Object)(nil)
