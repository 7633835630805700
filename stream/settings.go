package stream

// Settings are the compression and encryption options of a tool as the
// command line gives them; Options turns them into stream options.
type Settings struct {
	Compress bool
	// Level is the compression level (0: default).
	Level  int
	Cipher Cipher
	// KeyMaterial is the material the cipher key is derived from; when
	// nil, it is read from the private key KeyPEM.
	KeyMaterial, KeyPEM []byte
}

// Options returns the stream options, with the cipher key derived from
// the key material (a *KeyError when KeyPEM is not a private key).
func (s Settings) Options() (Options, error) {
	o := Options{Compress: s.Compress, Level: s.Level, Cipher: s.Cipher}
	if o.Cipher == None {
		return o, nil
	}
	mat := s.KeyMaterial
	if mat == nil {
		m, err := KeyMaterialFromPEM(s.KeyPEM)
		if err != nil {
			return o, err
		}
		mat = m
	}
	o.Key = DeriveKey(mat, o.Cipher)
	return o, nil
}
