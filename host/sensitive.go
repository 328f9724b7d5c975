package host

import (
	"context"
	"sort"
	"strings"

	"github.com/secrethost/secrethost/shared/provider"
)

// SensitiveEnv names the entries of environ ("NAME=value", as os.Environ
// returns them) that hold provider credentials: every variable named like
// an attribute that a configured provider's schema marks Sensitive (a
// Connect or service account token, say), whether or not the provider reads
// its configuration from the environment, and every variable whose value is
// exactly what a provider is configured with for such an attribute (a token
// the configuration reads with env("ANY_NAME")). Names only: values never
// leave the host.
//
// Schemas come from the providers' plugins: those started before are not
// asked again; the others are started just far enough to describe
// themselves (not configured) and stopped again. The error names the
// provider that could not be asked.
func (h *Host) SensitiveEnv(ctx context.Context, environ []string) ([]string, error) {
	if err := h.usable(); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	values := map[string]bool{}
	for _, in := range h.providers {
		info, err := in.schema(ctx)
		if err != nil {
			return nil, err
		}
		cfg := in.configFor(info)
		for _, attr := range info.ConfigSchema {
			if !attr.Sensitive {
				continue
			}
			names[attr.Name] = true
			if v := cfg[attr.Name]; v != "" {
				values[v] = true
			}
		}
	}
	var out []string
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		if names[name] || (value != "" && values[value]) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// schema returns the plugin's self-description: the one from its last
// start, else a fresh Describe.
func (in *instance) schema(ctx context.Context) (provider.InfoResponse, error) {
	in.mu.Lock()
	info := in.info
	in.mu.Unlock()
	if info.ProtocolVersion != 0 { // set by every successful start
		return info, nil
	}
	d := in.diagnose(ctx, false)
	if d.Info != nil && d.OK() {
		return *d.Info, nil
	}
	var problems []string
	for _, s := range d.Steps {
		if s.Status == StatusFailed {
			problems = append(problems, s.Name+": "+s.Detail)
		}
	}
	if len(problems) == 0 {
		problems = append(problems, "the plugin did not describe itself")
	}
	return provider.InfoResponse{}, in.errorf("cannot learn its configuration schema: %s", strings.Join(problems, "; "))
}
