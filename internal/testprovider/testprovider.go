// Package testprovider is a deliberately misbehaving provider for the
// host's end-to-end tests and benchmarks, served by host/internal/testplugin.
package testprovider

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/secrethost/secrethost/shared/credential"
	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

// Provider is a provider that misbehaves on request: references name the
// misbehaviour (test://panic, test://hang, test://exit, test://env, ...).
type Provider struct {
	// wedge is taken by GetInfo; test://hang takes it for good, as a
	// plugin deadlocked on its own state would, so that nothing answers.
	wedge  sync.Mutex
	mode   string
	prefix string
	token  string // TEST_TOKEN, for test://panic-token and test://leak
	echo   string // every config key and value, when the config has "echo"
}

// New returns a Provider; mode "shortbatch" drops a result from every
// batch, "longbatch" adds one, and "extra" answers a reference that was not
// asked.
func New(mode string) *Provider { return &Provider{mode: mode} }

var _ provider.Provider = (*Provider)(nil)

// RawMarker is text the "rawutf8" test plugin turns into invalid UTF-8 on
// the wire.
const RawMarker = "<<RAW-BYTES>>"

func (p *Provider) GetInfo(context.Context, provider.InfoRequest) (provider.InfoResponse, error) {
	p.wedge.Lock()
	defer p.wedge.Unlock()
	return provider.InfoResponse{Name: "test", Version: "0.0.1", Schemes: []string{"test"},
		// Mode "network" says it uses the network, so the host gives it
		// the network settings (HTTP_PROXY, ...) in its environment.
		UsesNetwork: p.mode == "network",
		ConfigSchema: []provider.ConfigAttribute{
			{Name: "prefix", Description: "prefix of every value"},
			{Name: "TEST_TOKEN", Description: "a token", Sensitive: true},
			{Name: "TEST_TOKEN_FILE", Description: "a file holding the token", SecretFile: true},
		}}, nil
}

func (p *Provider) Configure(_ context.Context, req provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	if req.Config["fail"] != "" {
		return provider.ConfigureResponse{}, provider.Errorf(provider.CodeInvalidConfig, "", "fail is set")
	}
	p.prefix = req.Config["prefix"]
	p.token = req.Config["TEST_TOKEN"]
	if req.Config["TEST_TOKEN_FILE"] != "" {
		c, err := credential.Load(req.Config, credential.Spec{Inline: []string{"TEST_TOKEN"}, File: "TEST_TOKEN_FILE", What: "test token"})
		if err != nil {
			return provider.ConfigureResponse{}, provider.Errorf(provider.CodeInvalidConfig, "", "%v", err)
		}
		p.token = c.Value
	}
	if req.Config["echo"] != "" {
		// A careless plugin that repeats its whole configuration: in a
		// warning, on stderr (which the host logs and keeps a tail of),
		// and in errors (test://echo, test://echo-exit).
		keys := make([]string, 0, len(req.Config))
		for k := range req.Config {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%s (quoted %q) ", k, req.Config[k], req.Config[k])
		}
		p.echo = b.String()
		fmt.Fprintln(os.Stderr, "echo on stderr: "+p.echo)
		if req.Config["echo"] == "reject" {
			return provider.ConfigureResponse{}, provider.Errorf(provider.CodeInvalidConfig, "", "rejected: %s", p.echo)
		}
		return provider.ConfigureResponse{Warnings: []string{"echo warning: " + p.echo}}, nil
	}
	if req.Config["leak"] != "" {
		// A careless plugin rejecting its configuration with the token in
		// the message: the host must not pass it on.
		return provider.ConfigureResponse{}, provider.Errorf(provider.CodeInvalidConfig, "", "token %q rejected", p.token)
	}
	return provider.ConfigureResponse{}, nil
}

func (p *Provider) Validate(_ context.Context, req provider.ValidateRequest) (provider.ValidateResponse, error) {
	var resp provider.ValidateResponse
	for _, ref := range req.References {
		resp.Results = append(resp.Results, provider.ValidateResult{Reference: ref})
	}
	return resp, nil
}

func (p *Provider) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	var resp provider.ResolveResponse
	for _, ref := range req.References {
		name := strings.TrimPrefix(ref, "test://")
		res := provider.ResolveResult{Reference: ref}
		switch {
		case name == "panic":
			panic("testplugin: asked to panic")
		case name == "panic-token":
			if p.token == "" {
				res.Err = provider.Errorf(provider.CodeInvalidConfig, ref, "TEST_TOKEN is not set")
				break
			}
			panicHolding(strings.Clone(p.token))
		case name == "exit":
			os.Exit(3)
		case name == "hang":
			// Ignores its deadline and wedges the whole plugin, on purpose.
			p.wedge.Lock()
			<-make(chan struct{})
		case name == "hang-alone":
			// Ignores its deadline, but only this call is stuck.
			<-make(chan struct{})
		case strings.HasPrefix(name, "sleep-"):
			// A slow backend that ignores cancellation: test://sleep-300ms.
			d, err := time.ParseDuration(strings.TrimPrefix(name, "sleep-"))
			if err != nil {
				res.Err = provider.Errorf(provider.CodeInvalidReference, ref, "bad duration")
				break
			}
			time.Sleep(d)
			res.Value = []byte(strconv.Itoa(os.Getpid()))
		case name == "slow":
			select {
			case <-time.After(5 * time.Second):
			case <-ctx.Done():
			}
		case name == "badtext":
			// An error message that is not UTF-8 (the backend's, say): the
			// SDK repairs it before the wire; in mode "rawutf8" it reaches
			// the wire as it is.
			msg := "the backend said \xfe\xff\xfe"
			if p.mode == "rawutf8" {
				msg = "the backend said " + RawMarker
			}
			res.Err = provider.Errorf(provider.CodeNotFound, ref, "%s", msg)
		case name == "env":
			res.Value = []byte(strings.Join(os.Environ(), "\x00"))
		case name == "env-error":
			// A careless plugin quoting its environment (a proxy URL with
			// its password, say) in an error and in a log line.
			env := strings.Join(os.Environ(), " ")
			plugin.Logger().Warn("environment in a log line", "env", env)
			res.Err = provider.Errorf(provider.CodeUnavailable, ref, "cannot reach the backend; environment: %s", env)
		case name == "leak":
			// A careless plugin quoting its token in an error.
			res.Err = provider.Errorf(provider.CodeUnauthenticated, ref, "token %q was refused", p.token)
		case name == "echo":
			res.Err = provider.Errorf(provider.CodeNotFound, ref, "echo error: %s", p.echo)
		case name == "echo-exit":
			fmt.Fprintln(os.Stderr, "echo before exit: "+p.echo)
			os.Exit(3)
		case name == "pid":
			res.Value = []byte(strconv.Itoa(os.Getpid()))
		case strings.HasPrefix(name, "bytes-"):
			// A value of that many bytes: test://bytes-2097152.
			n, err := strconv.Atoi(strings.TrimPrefix(name, "bytes-"))
			if err != nil || n < 0 || n > 64<<20 {
				res.Err = provider.Errorf(provider.CodeInvalidReference, ref, "bad size")
				break
			}
			res.Value = make([]byte, n)
		case strings.HasPrefix(name, "missing"):
			res.Err = provider.Errorf(provider.CodeNotFound, ref, "no secret %q", name)
		default:
			res.Value = []byte(p.prefix + name)
		}
		resp.Results = append(resp.Results, res)
	}
	switch p.mode {
	case "shortbatch":
		resp.Results = resp.Results[:len(resp.Results)-1]
	case "longbatch":
		resp.Results = append(resp.Results, resp.Results[len(resp.Results)-1])
	case "extra":
		resp.Results[0].Reference = "test://not-asked"
	}
	return resp, nil
}

// panicHolding panics with the token in its frame (an argument shown in
// the traceback) and in memory, but not in the panic message: what reaches
// the host after the crash must not carry it either.
//
//go:noinline
func panicHolding(token string) {
	held := []byte(token)
	panic(fmt.Sprintf("testplugin: asked to panic while holding a %d-byte token", len(held)))
}

func (p *Provider) Check(context.Context, provider.CheckRequest) (provider.CheckResponse, error) {
	return provider.CheckResponse{Healthy: true}, nil
}

func (p *Provider) Close(context.Context) error { return nil }
