// Package fileprovider is the example third-party secrethost provider:
// file://<name> resolves to the content of <dir>/<name>. It is the template
// for writing your own provider (see "Write your own provider" in the
// README): the provider lives in an importable package, so that its own
// tests can run the conformance kit on it in process, and its main
// (examples/file-provider) is one line.
//
// Two rules a reader of secret files can get wrong:
//
//   - A reference never leaves the directory. Names are relative paths
//     without "..", and the file is opened through an [os.Root], so a
//     symbolic link inside the directory that points outside it (or to an
//     absolute path) is refused with permission_denied naming the
//     reference, never the link's target.
//   - Exactly one trailing newline ("\n" or "\r\n") is removed from the
//     value. `echo s3cret > file` and most editors end a one-line secret
//     with a newline nobody means as part of it, and a token with a newline
//     breaks HTTP headers and connection strings; Docker's *_FILE
//     entrypoints and the shell's $(cat file) drop it too. Only one is
//     removed, so a value that really ends in a newline is written with
//     two, and every other byte, binary ones included, is returned as
//     stored.
package fileprovider

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/secrethost/secrethost/shared/provider"
)

// Scheme is the reference scheme the provider declares.
const Scheme = "file"

// Provider reads one file per secret from a directory. The zero value is
// an unconfigured provider; it is safe for concurrent use once Configure
// has returned.
type Provider struct {
	// Reads, when set, counts file reads: the provider's "backend
	// requests", which lets the conformance kit's ValidateOffline check see
	// that Validate reads nothing.
	Reads *atomic.Int64

	mu  sync.RWMutex
	dir string
}

// New returns an unconfigured provider.
func New() *Provider { return &Provider{} }

var _ provider.Provider = (*Provider)(nil)

func (p *Provider) GetInfo(context.Context, provider.InfoRequest) (provider.InfoResponse, error) {
	return provider.InfoResponse{Name: "file", Version: "0.1.0", Schemes: []string{Scheme},
		ConfigSchema: []provider.ConfigAttribute{{Name: "dir", Description: "directory holding one file per secret", Required: true, Path: true}}}, nil
}

func (p *Provider) Configure(_ context.Context, req provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	dir := req.Config["dir"]
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return provider.ConfigureResponse{}, provider.Errorf(provider.CodeInvalidConfig, "", "dir %q is not a readable directory", dir)
	}
	p.mu.Lock()
	p.dir = dir
	p.mu.Unlock()
	return provider.ConfigureResponse{}, nil
}

// name checks a reference offline and returns the file name it points to.
func name(ref string) (string, *provider.Error) {
	n, ok := strings.CutPrefix(ref, Scheme+"://")
	if !ok || n == "" || !fs.ValidPath(n) {
		return "", provider.Errorf(provider.CodeInvalidReference, ref, "expected file://<name>, a relative path without ..")
	}
	return n, nil
}

func (p *Provider) Validate(_ context.Context, req provider.ValidateRequest) (provider.ValidateResponse, error) {
	resp := provider.ValidateResponse{Results: make([]provider.ValidateResult, 0, len(req.References))}
	for _, ref := range req.References {
		_, err := name(ref)
		resp.Results = append(resp.Results, provider.ValidateResult{Reference: ref, Err: err})
	}
	return resp, nil
}

func (p *Provider) Resolve(_ context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	p.mu.RLock()
	dir := p.dir
	p.mu.RUnlock()
	if dir == "" {
		return provider.ResolveResponse{}, provider.Errorf(provider.CodeInvalidConfig, "", "the file provider is not configured")
	}
	resp := provider.ResolveResponse{Results: make([]provider.ResolveResult, 0, len(req.References))}
	for _, ref := range req.References {
		res := provider.ResolveResult{Reference: ref}
		if n, err := name(ref); err != nil {
			res.Err = err
		} else if b, err := p.read(dir, n); errors.Is(err, fs.ErrNotExist) {
			res.Err = provider.Errorf(provider.CodeNotFound, ref, "no file %q in the secrets directory", n)
		} else if escapes(err) {
			res.Err = provider.Errorf(provider.CodePermissionDenied, ref, "%q leads outside the secrets directory (through a symbolic link out of it, or to an absolute path); it is not read", n)
		} else if err != nil {
			res.Err = provider.Errorf(provider.CodePermissionDenied, ref, "cannot read %q", n)
		} else {
			res.Value = trimNewline(b)
		}
		resp.Results = append(resp.Results, res)
	}
	return resp, nil
}

// read reads dir/name without leaving dir: os.OpenInRoot refuses ".."
// and symbolic links that lead out of dir or are absolute.
func (p *Provider) read(dir, name string) ([]byte, error) {
	if p.Reads != nil {
		p.Reads.Add(1)
	}
	f, err := os.OpenInRoot(dir, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// escapes reports whether err is os.Root refusing a path that leaves the
// root. The standard library does not export that error, so its text is
// matched; a mismatch only makes the message less specific.
func escapes(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

// trimNewline removes one trailing "\n" or "\r\n".
func trimNewline(b []byte) []byte {
	if b, ok := bytes.CutSuffix(b, []byte("\n")); ok {
		b, _ = bytes.CutSuffix(b, []byte("\r"))
		return b
	}
	return b
}

func (p *Provider) Check(context.Context, provider.CheckRequest) (provider.CheckResponse, error) {
	p.mu.RLock()
	dir := p.dir
	p.mu.RUnlock()
	_, err := os.ReadDir(dir)
	return provider.CheckResponse{Healthy: err == nil, Items: []provider.CheckItem{{Name: "directory readable", OK: err == nil, Detail: dir}}}, nil
}

func (p *Provider) Close(context.Context) error { return nil }
