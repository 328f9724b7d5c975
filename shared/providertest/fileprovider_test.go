package providertest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/secrethost/secrethost/shared/provider"
)

// fileProvider mirrors examples/file-provider, which cannot be imported
// (package main), so that the kit can run it in process and wrap it in
// broken variants. The one addition is reads: every file read counts as a
// backend request, which gives the ValidateOffline check something to see.
type fileProvider struct {
	dir   string
	reads *atomic.Int64
}

func (f *fileProvider) GetInfo(context.Context, provider.InfoRequest) (provider.InfoResponse, error) {
	return provider.InfoResponse{Name: "file", Version: "0.1.0", Schemes: []string{"file"},
		ConfigSchema: []provider.ConfigAttribute{{Name: "dir", Description: "directory holding one file per secret", Required: true}}}, nil
}

func (f *fileProvider) Configure(_ context.Context, req provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	if st, err := os.Stat(req.Config["dir"]); err != nil || !st.IsDir() {
		return provider.ConfigureResponse{}, provider.Errorf(provider.CodeInvalidConfig, "", "dir %q is not a readable directory", req.Config["dir"])
	}
	f.dir = req.Config["dir"]
	return provider.ConfigureResponse{}, nil
}

func fileName(ref string) (string, *provider.Error) {
	n, ok := strings.CutPrefix(ref, "file://")
	if !ok || n == "" || !fs.ValidPath(n) {
		return "", provider.Errorf(provider.CodeInvalidReference, ref, "expected file://<name>, a relative path without ..")
	}
	return n, nil
}

func (f *fileProvider) Validate(_ context.Context, req provider.ValidateRequest) (provider.ValidateResponse, error) {
	var resp provider.ValidateResponse
	for _, ref := range req.References {
		_, err := fileName(ref)
		resp.Results = append(resp.Results, provider.ValidateResult{Reference: ref, Err: err})
	}
	return resp, nil
}

func (f *fileProvider) Resolve(_ context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	var resp provider.ResolveResponse
	for _, ref := range req.References {
		res := provider.ResolveResult{Reference: ref}
		if n, err := fileName(ref); err != nil {
			res.Err = err
		} else if b, err := f.read(n); errors.Is(err, fs.ErrNotExist) {
			res.Err = provider.Errorf(provider.CodeNotFound, ref, "no file %q in the secrets directory", n)
		} else if err != nil {
			res.Err = provider.Errorf(provider.CodePermissionDenied, ref, "cannot read %q", n)
		} else {
			res.Value = b
		}
		resp.Results = append(resp.Results, res)
	}
	return resp, nil
}

func (f *fileProvider) read(name string) ([]byte, error) {
	f.reads.Add(1)
	return os.ReadFile(filepath.Join(f.dir, name))
}

func (f *fileProvider) Check(context.Context, provider.CheckRequest) (provider.CheckResponse, error) {
	_, err := os.ReadDir(f.dir)
	return provider.CheckResponse{Healthy: err == nil, Items: []provider.CheckItem{{Name: "directory readable", OK: err == nil, Detail: f.dir}}}, nil
}

func (f *fileProvider) Close(context.Context) error { return nil }

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
func (f *fixture) provider() *fileProvider { return &fileProvider{reads: &f.reads} }

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
