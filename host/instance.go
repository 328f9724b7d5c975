package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

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

	// staticRaw are the configuration's values read with env() or file()
	// (and plugin paths derived from them); static is them in every form
	// to scrub (secretForms). Fixed at New.
	staticRaw, static []string

	mu   sync.Mutex
	proc *launch.Process
	info provider.InfoResponse
	// secrets are, once the plugin is configured, static plus the values
	// of sensitive attributes it was configured with: scrubbed from
	// whatever the plugin says back, in case a careless plugin quotes its
	// own token. Atomic, so the logger can read it from any goroutine.
	secrets atomic.Pointer[[]string]
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
	in.proc, in.info = proc, info
	in.secrets.Store(&secrets)
	return proc, nil
}

func (in *instance) start(ctx context.Context) (*launch.Process, provider.InfoResponse, []string, error) {
	proc, info, err := in.startUnconfigured(ctx)
	if err != nil {
		return nil, info, nil, err
	}
	cfg := in.configFor(info)
	secrets := in.configSecrets(info, cfg)
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
	path, err := in.locate()
	if err != nil {
		return nil, info, in.errorf("%w", err)
	}
	proc, err := in.launch(ctx, path)
	if err != nil {
		return nil, info, in.errorf("%w", scrubError(err, in.static))
	}
	info, err = proc.Provider.GetInfo(ctx, provider.InfoRequest{})
	if err == nil && info.ProtocolVersion != provider.ProtocolVersion {
		err = fmt.Errorf("plugin speaks protocol %d, this host speaks %d", info.ProtocolVersion, provider.ProtocolVersion)
	}
	if err != nil {
		proc.Kill()
		return nil, info, in.errorf("GetInfo: %w", scrubError(err, in.static))
	}
	return proc, info, nil
}

// locate finds the plugin binary; when plugin or plugin_dir was read with
// env() or file(), its errors name no path derived from them.
func (in *instance) locate() (string, error) {
	return catalog.LocateSecret(in.host.pluginDir, in.spec.Plugin, in.host.pluginDirSecret, in.spec.IsSecret("plugin"))
}

// shownPlugin is the plugin name for a message.
func (in *instance) shownPlugin() string {
	if in.spec.IsSecret("plugin") {
		return "(plugin, read with env() or file(), not shown)"
	}
	return in.spec.Plugin
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
//
// A relative value of an attribute the schema marks Path or SecretFile is
// made absolute, so that it means what the person who wrote it meant
// whatever the plugin's working directory: one from the environment against
// the caller's working directory, one from the config map against the
// configuration file's directory (the working directory for the built-in
// default). A plugin never receives a relative path; empty stays empty.
func (in *instance) configFor(info provider.InfoResponse) map[string]string {
	isPath := map[string]bool{}
	for _, attr := range info.ConfigSchema {
		if attr.Path || attr.SecretFile {
			isPath[attr.Name] = true
		}
	}
	cfg := map[string]string{}
	if in.spec.ConfigFromEnv {
		for _, attr := range info.ConfigSchema {
			if v, ok := in.host.lookupEnv(attr.Name); ok && v != "" {
				if isPath[attr.Name] {
					v = absPath(v, "")
				}
				cfg[attr.Name] = v
			}
		}
	}
	for k, v := range in.spec.Config {
		if isPath[k] {
			v = absPath(v, in.spec.Dir)
		}
		cfg[k] = v
	}
	return cfg
}

// absPath makes a relative path absolute against base, or against the
// working directory when base is "". "" and absolute paths are returned as
// they are.
func absPath(p, base string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if base == "" {
		wd, err := os.Getwd()
		if err != nil {
			return p // the plugin then reports the path it cannot use
		}
		base = wd
	}
	return filepath.Join(base, p)
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
