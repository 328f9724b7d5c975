package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/secrethost/secrethost/internal/bounded"
)

// maxInputFile bounds --from, --env-file and inject templates.
const maxInputFile = 16 << 20

// readFileLimited reads at most limit bytes of path.
func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, limit, path)
}

func readLimited(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := bounded.ReadAll(r, limit)
	if errors.Is(err, bounded.ErrTooLarge) {
		return nil, fmt.Errorf("%s is larger than %d MiB", what, limit>>20)
	}
	return b, err
}
