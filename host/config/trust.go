package config

import (
	"errors"
	"io/fs"

	"github.com/secrethost/secrethost/shared/launch"
)

// ErrUntrustedFile: the configuration file may be changed by someone other
// than root or the user running secrethost, so it is not used.
var ErrUntrustedFile = errors.New("configuration file may be changed by others")

// readTrusted reads the configuration file at path, like readLimited, after
// checking on the opened file (so the check and the read see the same file)
// that only root or the current user can change it. The error names the
// reason and the fix; the caller names the file.
func readTrusted(path string, limit int64) ([]byte, error) {
	return readFile(path, limit, func(st fs.FileInfo) error {
		if err := launch.CheckTrusted(path, st); err != nil {
			var te *launch.TrustError
			if errors.As(err, &te) {
				return &untrustedError{"refused: " + te.Reason}
			}
			return bareErr(err)
		}
		return nil
	})
}

type untrustedError struct{ msg string }

func (e *untrustedError) Error() string { return e.msg }
func (e *untrustedError) Unwrap() error { return ErrUntrustedFile }
