package host

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/host/catalog"
	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/host/launch"
	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

// ErrCrashed: a plugin crashed, was restarted, and crashed again.
var ErrCrashed = errors.New("plugin crashed again after a restart")

// instance is one configured provider and, once started, its process.
type instance struct {
	spec config.Provider
	pin  []byte
	host *Host
	log  hclog.Logger

	mu   sync.Mutex
	proc *launch.Process
	info provider.InfoResponse
	// secrets are the values of sensitive attributes the plugin was
	// configured with: scrubbed from whatever the plugin says back, in case
	// a careless plugin quotes its own token.
	secrets []string
}

// ready returns a started, configured process, starting one if there is
// none or the last one exited. Concurrent callers share one start.
func (in *instance) ready(ctx context.Context) (*launch.Process, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.proc != nil {
		select {
		case <-in.proc.Done():
			in.log.Warn("plugin exited; starting it again")
			in.proc.Kill()
			in.proc = nil
		default:
			return in.proc, nil
		}
	}
	if err := in.host.usable(); err != nil {
		return nil, err
	}
	proc, info, secrets, err := in.start(ctx)
	if err != nil {
		return nil, err
	}
	in.proc, in.info, in.secrets = proc, info, secrets
	return proc, nil
}

func (in *instance) start(ctx context.Context) (*launch.Process, provider.InfoResponse, []string, error) {
	proc, info, err := in.startUnconfigured(ctx)
	if err != nil {
		return nil, info, nil, err
	}
	cfg := in.configFor(info)
	secrets := sensitiveValues(info, cfg)
	resp, err := proc.Provider.Configure(ctx, provider.ConfigureRequest{Config: cfg})
	if err != nil {
		proc.Kill()
		return nil, info, nil, in.errorf("configuration rejected: %w", scrubError(err, secrets))
	}
	for _, w := range resp.Warnings {
		in.log.Warn(scrub(w, secrets))
	}
	in.log.Debug("plugin started", "pid", proc.Pid(), "plugin_version", info.Version, "schemes", info.Schemes)
	return proc, info, secrets, nil
}

// startUnconfigured launches the plugin and checks that it describes
// itself in our protocol; it is not configured yet.
func (in *instance) startUnconfigured(ctx context.Context) (*launch.Process, provider.InfoResponse, error) {
	var info provider.InfoResponse
	path, err := catalog.Locate(in.host.pluginDir, in.spec.Plugin)
	if err != nil {
		return nil, info, in.errorf("%w", err)
	}
	proc, err := in.launch(ctx, path)
	if err != nil {
		return nil, info, in.errorf("%w", err)
	}
	info, err = proc.Provider.GetInfo(ctx, provider.InfoRequest{})
	if err == nil && info.ProtocolVersion != provider.ProtocolVersion {
		err = fmt.Errorf("plugin speaks protocol %d, this host speaks %d", info.ProtocolVersion, provider.ProtocolVersion)
	}
	if err != nil {
		proc.Kill()
		return nil, info, in.errorf("GetInfo: %w", err)
	}
	return proc, info, nil
}

// launch starts the plugin binary at path with this provider's pin, log
// level and logger.
func (in *instance) launch(ctx context.Context, path string) (*launch.Process, error) {
	return launch.Start(ctx, launch.Spec{
		Name:     in.spec.Name,
		Path:     path,
		SHA256:   in.pin,
		LogLevel: in.host.log.GetLevel(),
		Logger:   in.log,
	})
}

// shutdown asks the plugin to Close, then kills its process.
func (in *instance) shutdown(proc *launch.Process) {
	ctx, cancel := context.WithTimeout(context.Background(), launch.CloseTimeout)
	defer cancel()
	if err := proc.Provider.Close(ctx); err != nil {
		in.log.Debug("plugin Close failed", "error", err)
	}
	proc.Kill()
}

// configFor builds the Configure map: declared environment variables first
// (config_from_env), then the explicit config map on top. Only declared
// names are read, so the plugin never sees the rest of the environment.
func (in *instance) configFor(info provider.InfoResponse) map[string]string {
	cfg := map[string]string{}
	if in.spec.ConfigFromEnv {
		for _, attr := range info.ConfigSchema {
			if v, ok := in.host.lookupEnv(attr.Name); ok && v != "" {
				cfg[attr.Name] = v
			}
		}
	}
	maps.Copy(cfg, in.spec.Config)
	return cfg
}

func (in *instance) schemes() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.info.Schemes
}

// call runs fn against the plugin. A plugin found dead is restarted once; if
// the fresh process dies too, the error says so. A call that ran out of time
// takes the process down with it, since a plugin that ignores its deadline
// may be stuck for good.
func (in *instance) call(ctx context.Context, method string, fn func(provider.Provider) error) error {
	for attempt := 0; ; attempt++ {
		proc, err := in.ready(ctx)
		if err != nil {
			return err
		}
		err = fn(proc.Provider)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, plugin.ErrPluginUnavailable):
			tail := in.scrub(proc.StderrTail())
			in.discard(proc)
			if attempt == 0 && ctx.Err() == nil {
				in.log.Warn("plugin stopped responding; restarting it", "method", method)
				continue
			}
			msg := in.errorf("%s: %w", method, ErrCrashed)
			if tail != "" {
				msg = fmt.Errorf("%w\nlast lines of the plugin's stderr:\n%s", msg, tail)
			}
			return msg
		case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
			// gRPC's own deadline timer can fire a moment before ctx
			// reports it, so the error's cause counts as much as ctx.
			in.log.Warn("call exceeded its deadline; stopping the plugin", "method", method)
			in.discard(proc)
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return in.errorf("%s: %w", method, err)
		default:
			return in.errorf("%s: %w", method, in.scrubError(err))
		}
	}
}

// discard kills proc unless another caller already replaced it.
func (in *instance) discard(proc *launch.Process) {
	in.mu.Lock()
	if in.proc == proc {
		in.proc = nil
	}
	in.mu.Unlock()
	proc.Kill()
}

func (in *instance) stop() {
	in.mu.Lock()
	proc := in.proc
	in.proc = nil
	in.mu.Unlock()
	if proc != nil {
		in.shutdown(proc)
	}
}

func (in *instance) errorf(format string, args ...any) error {
	return fmt.Errorf("provider %q (%s): %w", in.spec.Name, in.spec.Pos, fmt.Errorf(format, args...))
}
