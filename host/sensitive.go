package host

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/secrethost/secrethost/internal/bounded"
	"github.com/secrethost/secrethost/shared/credential"
	"github.com/secrethost/secrethost/shared/provider"
)

// SensitiveEnv names the entries of environ ("NAME=value", as os.Environ
// returns them) that hold provider credentials: every variable named like
// an attribute that a configured provider's schema marks Sensitive (a
// Connect or service account token, say), whether or not the provider reads
// its configuration from the environment, and every variable whose value
// (or the value trimmed of surrounding whitespace) is exactly a credential
// a provider is configured with: the value of a Sensitive attribute (a
// token the configuration reads with env("ANY_NAME")) or the content of a
// SecretFile attribute's file (a token file), or, when a provider uses the
// network, a proxy URL with credentials among the host's network settings
// (the whole URL or its password: see NetworkEnvNames). Names only.
//
// Schemas come from the providers' plugins: those running are not asked
// again; the others are started just far enough to describe themselves
// (not configured), and a later call that needs them configured goes on
// with that process. The error names the provider that could not be asked.
func (h *Host) SensitiveEnv(ctx context.Context, environ []string) ([]string, error) {
	names, values, err := h.credentials(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		if names[name] || (value != "" && (values[value] || values[strings.TrimSpace(value)])) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// SensitiveValues returns the credentials the providers are configured
// with: the values of Sensitive attributes and the contents of SecretFile
// attributes' files (trimmed, as the plugins read them), so that a caller
// can mask them in output it passes on (secrethost run does). They are
// secrets: never log or show them. Schemas are learned as for SensitiveEnv.
func (h *Host) SensitiveValues(ctx context.Context) ([]string, error) {
	_, values, err := h.credentials(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(values))
	for v := range values {
		out = append(out, v)
	}
	sort.Strings(out)
	return out, nil
}

// credentials collects, over every configured provider, the names of the
// Sensitive attributes and the credential values (see SensitiveEnv).
func (h *Host) credentials(ctx context.Context) (names, values map[string]bool, err error) {
	if err := h.usable(); err != nil {
		return nil, nil, err
	}
	names = map[string]bool{}
	values = map[string]bool{}
	for _, in := range h.providers {
		info, err := in.schema(ctx)
		if err != nil {
			return nil, nil, err
		}
		cfg := in.configFor(info)
		for _, attr := range info.ConfigSchema {
			if attr.Sensitive {
				names[attr.Name] = true
			}
		}
		for _, v := range credentialValues(info, cfg) {
			values[v] = true
		}
		for _, v := range h.networkSecrets(info.UsesNetwork) {
			values[v] = true // a proxy URL's user:password@
		}
	}
	return names, values, nil
}

// credentialValues lists the credentials in cfg: each Sensitive value as
// given and trimmed (the plugins trim it), and the trimmed content of each
// SecretFile attribute's file.
func credentialValues(info provider.InfoResponse, cfg map[string]string) []string {
	var out []string
	for _, a := range info.ConfigSchema {
		v := cfg[a.Name]
		if strings.TrimSpace(v) == "" {
			continue
		}
		if a.Sensitive {
			out = append(out, v)
			if t := strings.TrimSpace(v); t != v {
				out = append(out, t)
			}
		}
		if a.SecretFile {
			if c := readSecretFile(v); c != "" {
				out = append(out, c)
			}
		}
	}
	return out
}

// readSecretFile reads a SecretFile attribute's file the way the plugins
// do (shared/credential: at most credential.MaxFileSize bytes, trimmed of
// surrounding whitespace), for scrubbing and masking only. A relative path
// is taken against the working directory. A file that is missing,
// unreadable, not a regular file or too large yields "": reporting that is
// the plugin's job, when it loads the credential.
func readSecretFile(path string) string {
	path = strings.TrimSpace(path)
	if !filepath.IsAbs(path) {
		abs, err := filepath.Abs(path)
		if err != nil {
			return ""
		}
		path = abs
	}
	// Stat first: opening a FIFO would block.
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	data, err := bounded.ReadAll(f, credential.MaxFileSize)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// schema returns the plugin's self-description, from the instance's
// process, which is started (described, not configured) if it is not
// running: a later call that needs it configured goes on from there.
func (in *instance) schema(ctx context.Context) (provider.InfoResponse, error) {
	p, err := in.ready(ctx, needDescribed)
	if err != nil {
		return provider.InfoResponse{}, err
	}
	return p.info, nil
}
