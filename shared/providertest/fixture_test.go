package providertest

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/secrethost/secrethost/examples/file-provider/fileprovider"
	"github.com/secrethost/secrethost/shared/provider"
)

// The kit is tested on the example file provider (examples/file-provider),
// imported as a package, and on broken variants of it (broken_test.go).
// Every file read counts as a backend request, which gives the
// ValidateOffline check something to see.

// fixture is a secrets directory and the backend-request counter shared by
// the file providers serving it.
type fixture struct {
	dir   string
	reads atomic.Int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	for name, value := range map[string]string{
		"alpha":        "alpha-secret\n",
		"beta":         "beta secret, with spaces",
		"nested/gamma": "gamma\x00binary\xff",
	} {
		path := filepath.Join(f.dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(value), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// provider returns a fresh, unconfigured file provider on the fixture.
func (f *fixture) provider() *fileprovider.Provider { return &fileprovider.Provider{Reads: &f.reads} }

// suite describes the file provider served by newImpl.
func (f *fixture) suite(newProvider func(testing.TB) provider.Provider) Suite {
	return Suite{
		New:     newProvider,
		Config:  map[string]string{"dir": f.dir},
		Valid:   []string{"file://alpha", "file://beta", "file://nested/gamma"},
		Invalid: []string{"file://../outside", "file:///etc/passwd", "notaref", "file://a//b"},
		Missing: []string{"file://nope", "file://nested/nope"},
		// The file provider has no sensitive attribute; treat a complete
		// configuration plus a made-up token as secret, so that the
		// accepting path of the leak check runs too.
		SensitiveConfig: map[string]string{"dir": f.dir, "token": "tok-7f3a9c-never-echo"},
		// Relative, so that the path echoed in the error (dir is not
		// sensitive) does not contain f.dir, which SensitiveConfig holds.
		BadConfig: map[string]string{"dir": "no-such-dir/secrets"},
		Requests:  func() int { return int(f.reads.Load()) },
	}
}
