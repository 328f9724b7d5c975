// Command file is an example third-party secrethost provider: it resolves
// file://<name> to the content of <dir>/<name>. It is the template for
// writing your own provider; see "Write your own provider" in the README.
package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

type files struct{ dir string }

func (f *files) GetInfo(context.Context, provider.InfoRequest) (provider.InfoResponse, error) {
	return provider.InfoResponse{Name: "file", Version: "0.1.0", Schemes: []string{"file"},
		ConfigSchema: []provider.ConfigAttribute{{Name: "dir", Description: "directory holding one file per secret", Required: true, Path: true}}}, nil
}

func (f *files) Configure(_ context.Context, req provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	if st, err := os.Stat(req.Config["dir"]); err != nil || !st.IsDir() {
		return provider.ConfigureResponse{}, provider.Errorf(provider.CodeInvalidConfig, "", "dir %q is not a readable directory", req.Config["dir"])
	}
	f.dir = req.Config["dir"]
	return provider.ConfigureResponse{}, nil
}

// name checks a reference offline and returns the file name it points to.
func name(ref string) (string, *provider.Error) {
	n, ok := strings.CutPrefix(ref, "file://")
	if !ok || n == "" || !fs.ValidPath(n) {
		return "", provider.Errorf(provider.CodeInvalidReference, ref, "expected file://<name>, a relative path without ..")
	}
	return n, nil
}

func (f *files) Validate(_ context.Context, req provider.ValidateRequest) (provider.ValidateResponse, error) {
	var resp provider.ValidateResponse
	for _, ref := range req.References {
		_, err := name(ref)
		resp.Results = append(resp.Results, provider.ValidateResult{Reference: ref, Err: err})
	}
	return resp, nil
}

func (f *files) Resolve(_ context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	var resp provider.ResolveResponse
	for _, ref := range req.References {
		res := provider.ResolveResult{Reference: ref}
		if n, err := name(ref); err != nil {
			res.Err = err
		} else if b, err := os.ReadFile(filepath.Join(f.dir, n)); errors.Is(err, fs.ErrNotExist) {
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

func (f *files) Check(context.Context, provider.CheckRequest) (provider.CheckResponse, error) {
	_, err := os.ReadDir(f.dir)
	return provider.CheckResponse{Healthy: err == nil, Items: []provider.CheckItem{{Name: "directory readable", OK: err == nil, Detail: f.dir}}}, nil
}

func (f *files) Close(context.Context) error { return nil }

func main() { plugin.Serve(&files{}) }
