package toolenv

import (
	"asbtools/compat"
	"asbtools/storage"
)

// S3Options converts the --s3-* options to the S3 backend's options.
func S3Options(c compat.S3Config) storage.S3Options {
	return storage.S3Options{
		Region:            c.Region.Value,
		Profile:           c.Profile.Value,
		Endpoint:          c.EndpointOverride.Value,
		MinPartSize:       c.MinPartSize,
		MaxAsyncUploads:   int(c.MaxAsyncUploads),
		MaxAsyncDownloads: int(c.MaxAsyncDownloads),
		ConnectTimeout:    c.ConnectTimeout,
		LogLevel:          c.LogLevel,
		AllowSystemProxy:  c.AllowSystemProxy,
	}
}

// Store returns the storage of a tool: local files, and S3 objects for
// s3:// paths configured by the --s3-* options. info, if set, receives the
// legacy INF line `Initializing S3 API` when S3 is first used and the SDK's
// log lines (--s3-log-level Info and above).
func Store(c compat.S3Config, info func(string)) *storage.Router {
	o := S3Options(c)
	o.Log = info
	r := storage.New(o)
	if info != nil {
		r.OnInit = func() { info("Initializing S3 API") }
	}
	return r
}
