package cli

import (
	"fmt"
	"io"
	"os"
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
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d MiB", what, limit>>20)
	}
	return b, nil
}
