package compat

import (
	"asbtools/stream"

	"asbtools/msg"
)

// mountOptions are the asrestore options asbfs accepts too: the files it
// reads ([asrestore] and [secret-agent]), the codec of the backup files,
// the Secret Agent and S3.
var mountOptions = []string{
	"config-file", "instance", "no-config-file", "only-config-file",
	"compress", "encrypt", "encryption-key-file", "encryption-key-env",
	"sa-address", "sa-port", "sa-timeout", "sa-cafile",
	"s3-region", "s3-profile", "s3-endpoint-override", "s3-max-async-downloads",
	"s3-log-level", "s3-connect-timeout", "s3-allow-system-proxy",
}

// Flag describes a command-line option another command shares with
// asrestore (see MountFlags).
type Flag struct {
	Long  string
	Short string // "" when none
	// TakesArg reports whether the option takes an argument.
	TakesArg bool
}

// MountFlags returns the asrestore options asbfs accepts: configuration
// files, encryption and compression, Secret Agent and S3. asbfs parses its
// command line with them and hands the ones given to ParseMount.
func MountFlags() []Flag {
	var out []Flag
	for _, n := range mountOptions {
		o := restoreTool.byName(n)
		f := Flag{Long: n, TakesArg: o.arg != noArgument}
		if o.short != 0 {
			f.Short = string(rune(o.short))
		}
		out = append(out, f)
	}
	return out
}

// ParseMount applies the asrestore options of MountFlags given in args
// (args[0] is the program name, then "--name=value" or "--name" items) and
// the [asrestore], [cluster] and [secret-agent] sections of the
// configuration files, through asrestore's option registry: the same
// values, checks, messages, secrets and precedence as asrestore. On success
// the messages of the result must be printed; a failure is a *msg.Error.
func ParseMount(args []string, env Env) (*Common, error) {
	c := &RestoreConfig{}
	a, err := parseTool(restoreTool, args, env, target{Common: &c.Common, r: c}, func(p *parser) *msg.Error {
		if (c.Key != nil) != (c.Encrypt != EncryptNone) {
			return p.out.failLines("Must specify both encryption mode and a private key file/environment variable\n")
		}
		return nil
	})
	if a != ActionRun {
		if err == nil {
			err = errLines("asrestore option parsing stopped early")
		}
		return nil, err
	}
	return &c.Common, nil
}

// Settings returns the codec as the stream package's settings (the one
// conversion asbackup, asrestore and asbfs use; stream.Settings.Options
// derives the cipher key).
func (c Codec) Settings() stream.Settings {
	s := stream.Settings{Compress: c.Compress == CompressZstd, Level: c.CompressionLevel}
	switch c.Encrypt {
	case EncryptAES128:
		s.Cipher = stream.AES128
	case EncryptAES256:
		s.Cipher = stream.AES256
	}
	if c.Key == nil {
		s.Cipher = stream.None
	} else if s.Cipher != stream.None {
		s.KeyMaterial, s.KeyPEM = c.Key.Material, c.Key.PEM
	}
	return s
}
