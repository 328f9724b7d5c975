// Command testplugin is a deliberately misbehaving provider for the host's
// end-to-end tests. Start-up misbehaviour is chosen at build time
// (-ldflags "-X main.mode=..."), because a plugin receives nothing from the
// host before the handshake.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

// mode: "" (well behaved), "stdout" (writes to stdout before the
// handshake), "crash" (exits during start-up), "shortbatch" (drops a
// result), "extra" (answers a reference it was not asked).
var mode string

type testProvider struct{ prefix string }

func (p *testProvider) GetInfo(context.Context, provider.InfoRequest) (provider.InfoResponse, error) {
	return provider.InfoResponse{Name: "test", Version: "0.0.1", Schemes: []string{"test"},
		ConfigSchema: []provider.ConfigAttribute{
			{Name: "prefix", Description: "prefix of every value"},
			{Name: "TEST_TOKEN", Description: "a token", Sensitive: true},
		}}, nil
}

func (p *testProvider) Configure(_ context.Context, req provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	if req.Config["fail"] != "" {
		return provider.ConfigureResponse{}, provider.Errorf(provider.CodeInvalidConfig, "", "fail is set")
	}
	p.prefix = req.Config["prefix"]
	return provider.ConfigureResponse{}, nil
}

func (p *testProvider) Validate(_ context.Context, req provider.ValidateRequest) (provider.ValidateResponse, error) {
	var resp provider.ValidateResponse
	for _, ref := range req.References {
		resp.Results = append(resp.Results, provider.ValidateResult{Reference: ref})
	}
	return resp, nil
}

func (p *testProvider) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	var resp provider.ResolveResponse
	for _, ref := range req.References {
		name := strings.TrimPrefix(ref, "test://")
		res := provider.ResolveResult{Reference: ref}
		switch {
		case name == "panic":
			panic("testplugin: asked to panic")
		case name == "exit":
			os.Exit(3)
		case name == "hang":
			<-make(chan struct{}) // ignores its deadline on purpose
		case name == "slow":
			select {
			case <-time.After(5 * time.Second):
			case <-ctx.Done():
			}
		case name == "env":
			res.Value = []byte(strings.Join(os.Environ(), "\x00"))
		case name == "pid":
			res.Value = []byte(strconv.Itoa(os.Getpid()))
		case strings.HasPrefix(name, "missing"):
			res.Err = provider.Errorf(provider.CodeNotFound, ref, "no secret %q", name)
		default:
			res.Value = []byte(p.prefix + name)
		}
		resp.Results = append(resp.Results, res)
	}
	switch mode {
	case "shortbatch":
		resp.Results = resp.Results[:len(resp.Results)-1]
	case "extra":
		resp.Results[0].Reference = "test://not-asked"
	}
	return resp, nil
}

func (p *testProvider) Check(context.Context, provider.CheckRequest) (provider.CheckResponse, error) {
	return provider.CheckResponse{Healthy: true}, nil
}

func (p *testProvider) Close(context.Context) error { return nil }

func main() {
	switch mode {
	case "stdout":
		fmt.Println("hello from a plugin that prints before its handshake")
	case "crash":
		fmt.Fprintln(os.Stderr, "fatal: cannot open the backend's state directory")
		os.Exit(1)
	}
	plugin.Serve(&testProvider{})
}
