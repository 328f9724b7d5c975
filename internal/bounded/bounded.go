// Package bounded is the one bounded reader of the module: read all of a
// stream, but never more than a limit, and say when there was more. Every
// caller words its own message (a size, a file name or neither: a path may
// be a secret's).
package bounded

import (
	"errors"
	"io"
)

// ErrTooLarge says that the stream held more than the limit.
var ErrTooLarge = errors.New("larger than the limit")

// ReadAll reads r to its end and returns what it read, or ErrTooLarge as
// soon as more than limit bytes arrive (at most limit+1 are read).
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, ErrTooLarge
	}
	return b, nil
}
