package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/host/catalog"
	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/shared/launch"
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
	proc *process
	// starting is the start in progress, if any: every caller that needs
	// the plugin meanwhile waits for it, each only as long as its own
	// context allows.
	starting *startAttempt
	info     provider.InfoResponse
	// secrets are, once the plugin is configured, static plus the values
	// of sensitive attributes it was configured with: scrubbed from
	// whatever the plugin says back, in case a careless plugin quotes its
	// own token. Atomic, so the logger can read it from any goroutine.
	secrets atomic.Pointer[[]string]
}

// startAttempt is one start of the plugin, shared by the callers waiting
// for it; err is set before done is closed.
type startAttempt struct {
	done chan struct{}
	err  error
}

// process is one started plugin and what the host did to it.
type process struct {
	*launch.Process
	// stopped: the host killed it (Close, or it hung after a deadline), so
	// a call it breaks is not a crash.
	stopped atomic.Bool
	probing atomic.Bool
}

// ready returns a started, configured process, starting one if there is
// none or the last one exited. Concurrent callers share one start, which
// runs on its own (bounded by launch.DefaultStartTimeout, not by the
// caller that happened to begin it): a caller that gives up stops waiting,
// and the start goes on for the others.
func (in *instance) ready(ctx context.Context) (*process, error) {
	in.mu.Lock()
	if in.proc != nil {
		select {
		case <-in.proc.Done():
			in.log.Warn("plugin exited; starting it again")
			in.proc.Kill()
			in.proc = nil
		default:
			proc := in.proc
			in.mu.Unlock()
			return proc, nil
		}
	}
	if err := in.host.usable(); err != nil {
		in.mu.Unlock()
		return nil, err
	}
	a := in.starting
	if a == nil {
		a = &startAttempt{done: make(chan struct{})}
		in.starting = a
		go in.startShared(context.WithoutCancel(ctx), a)
	}
	in.mu.Unlock()
	select {
	case <-a.done:
	case <-ctx.Done():
		return nil, in.errorf("starting the plugin: %s: %w", endedBy(ctx.Err()), ctx.Err())
	}
	if a.err != nil {
		return nil, a.err
	}
	in.mu.Lock()
	proc := in.proc
	in.mu.Unlock()
	if proc == nil {
		// Stopped again already (Close, or a probe): once more.
		return in.ready(ctx)
	}
	return proc, nil
}

// startShared runs one start for every caller waiting on a.
func (in *instance) startShared(ctx context.Context, a *startAttempt) {
	ctx, cancel := context.WithTimeout(ctx, launch.DefaultStartTimeout)
	defer cancel()
	proc, info, secrets, err := in.start(ctx)
	var orphan *launch.Process
	in.mu.Lock()
	if err == nil {
		if cerr := in.host.usable(); cerr != nil {
			// Closed while starting: Close waits for this start, and its
			// process must not outlive the host.
			err, orphan = cerr, proc
		} else {
			in.proc, in.info = &process{Process: proc}, info
			in.secrets.Store(&secrets)
		}
	}
	a.err = err
	in.starting = nil
	in.mu.Unlock()
	if orphan != nil {
		in.shutdown(orphan)
	}
	close(a.done)
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
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, info, nil, in.errorf("starting the plugin: %s: %w", endedBy(err), err)
		}
		err = in.errorf("configuration rejected: %w", scrubError(err, secrets))
		if errors.Is(err, provider.ErrInvalidConfig) {
			err = &ConfigError{err}
		}
		return nil, info, nil, err
	}
	for _, w := range resp.Warnings {
		in.log.Warn(scrub(w, secrets))
	}
	in.log.Debug("plugin started", "pid", proc.Pid(), "plugin_version", info.Version, "schemes", info.Schemes, "network_settings", proc.NetworkEnv)
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
		// Only for a plugin whose schema says it uses the network.
		NetworkEnv: in.host.net.env,
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

// DefaultProbeTimeout is how long a plugin has to answer a liveness probe
// (GetInfo) after one of its calls ran past its deadline. A plugin that
// answers keeps serving; one that does not is stuck and is stopped.
const DefaultProbeTimeout = 3 * time.Second

// maxRestarts bounds how often one call follows a plugin the host itself
// stopped (after another caller's deadline, say) into a fresh process.
const maxRestarts = 3

// call runs fn against the plugin. Only the caller's own call ends with its
// context: a cancelled or timed-out caller never stops the process the
// other callers share. After a deadline the plugin is probed in the
// background and stopped only if it does not answer within the grace period
// (DefaultProbeTimeout). A plugin that died on its own is restarted once;
// if the fresh process dies too, the error says so (ErrCrashed). A process
// the host stopped is not a crash: the call moves to a fresh one.
func (in *instance) call(ctx context.Context, method string, fn func(provider.Provider) error) error {
	crashes, restarts := 0, 0
	for {
		proc, err := in.ready(ctx)
		if err != nil {
			return err
		}
		err = fn(proc.Provider)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, plugin.ErrPluginUnavailable) && !proc.stopped.Load():
			// The process ended without the host stopping it: a crash.
			tail := in.scrub(proc.StderrTail())
			in.discard(proc, "crashed")
			crashes++
			if ctx.Err() != nil {
				return in.errorf("%s: the plugin crashed, and the call was %s: %w", method, endedBy(ctx.Err()), ctx.Err())
			}
			if crashes == 1 {
				in.log.Warn("plugin crashed; restarting it", "method", method, "pid", proc.Pid())
				continue
			}
			msg := in.errorf("%s: %w", method, ErrCrashed)
			if tail != "" {
				msg = fmt.Errorf("%w\nlast lines of the plugin's stderr:\n%s", msg, tail)
			}
			return msg
		case errors.Is(err, plugin.ErrPluginUnavailable):
			// The host stopped this process under the call (it hung after
			// someone's deadline, or the host is closing).
			if err := in.host.usable(); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return in.errorf("%s: %s: %w", method, endedBy(ctx.Err()), ctx.Err())
			}
			if restarts++; restarts <= maxRestarts {
				in.log.Debug("plugin was stopped during the call; retrying with a fresh one", "method", method)
				continue
			}
			return in.errorf("%s: %w", method, ErrStopped)
		case errors.Is(err, context.Canceled):
			// The caller gave up: its own call ends, the plugin serves on.
			in.log.Debug("call cancelled by its caller", "method", method)
			return in.errorf("%s: cancelled: %w", method, context.Canceled)
		case errors.Is(err, context.DeadlineExceeded):
			// The error's cause, not ctx: gRPC's own deadline timer can
			// fire a moment before ctx reports it.
			in.log.Warn("call exceeded its deadline; checking that the plugin still answers", "method", method)
			in.probe(proc)
			return in.errorf("%s: deadline exceeded: %w", method, context.DeadlineExceeded)
		default:
			return in.errorf("%s: %w", method, in.scrubError(err))
		}
	}
}

// ErrStopped: the host stopped the plugin under a call again and again.
var ErrStopped = errors.New("plugin was stopped by the host during the call (it did not answer after a deadline)")

func endedBy(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "deadline exceeded"
	}
	return "cancelled"
}

// probe asks proc, in the background, whether it still answers, and stops
// it if it does not answer within the grace period: a plugin that ignores
// its deadlines and no longer serves anything is stuck for good. One probe
// at a time per process.
func (in *instance) probe(proc *process) {
	if !proc.probing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer proc.probing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), in.host.probeTimeout)
		defer cancel()
		_, err := proc.Provider.GetInfo(ctx, provider.InfoRequest{})
		switch {
		case errors.Is(err, plugin.ErrPluginUnavailable):
			// Gone already; the next call starts a fresh one.
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
			in.log.Warn("plugin did not answer within the grace period after a deadline; stopping it",
				"pid", proc.Pid(), "grace", in.host.probeTimeout)
			in.discard(proc, "stuck")
		default:
			// It answered (an error in its answer is still an answer).
			in.log.Debug("plugin still answers after a deadline; keeping it", "pid", proc.Pid())
		}
	}()
}

// discard kills proc, marking it as stopped by the host unless it died on
// its own (why says which), and forgets it unless another caller already
// replaced it.
func (in *instance) discard(proc *process, why string) {
	if why != "crashed" {
		proc.stopped.Store(true)
	}
	in.mu.Lock()
	if in.proc == proc {
		in.proc = nil
	}
	in.mu.Unlock()
	proc.Kill()
}

func (in *instance) stop() {
	in.mu.Lock()
	proc, a := in.proc, in.starting
	in.proc = nil
	in.mu.Unlock()
	if a != nil {
		<-a.done // its process is stopped as it sees the host closed
	}
	if proc != nil {
		proc.stopped.Store(true)
		in.shutdown(proc.Process)
	}
}

func (in *instance) errorf(format string, args ...any) error {
	return fmt.Errorf("provider %q (%s): %w", in.spec.Name, in.spec.Pos, fmt.Errorf(format, args...))
}
