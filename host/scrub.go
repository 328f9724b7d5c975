package host

import (
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/secrethost/secrethost/internal/redact"
	"github.com/secrethost/secrethost/shared/provider"
)

// The mark and the threshold are internal/redact's (Mark, MinLen): a line
// of a multi-line value shorter than MinLen (after trimming surrounding
// white space) is not scrubbed on its own.
const (
	redactedMark = redact.Mark
	minSecretLen = redact.MinLen
)

// sensitiveValues lists the credentials cfg holds, for scrubbing: the
// values of attributes the plugin's schema marks Sensitive and the content
// of the files named by SecretFile attributes (see credentialValues).
// Longest first, so that a value containing another is scrubbed whole.
func sensitiveValues(info provider.InfoResponse, cfg map[string]string) []string {
	var out []string
	for _, v := range credentialValues(info, cfg) {
		if len(v) >= minSecretLen && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// secretForms expands secret values into every string to scrub: the value,
// its Go-quoted form (without the quotes: what %q prints inside them) and,
// for a multi-line value, each line and its quoted form. The result is
// deduplicated and sorted longest first, so that a secret containing another
// is replaced whole.
func secretForms(values ...string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if len(s) >= minSecretLen && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	addQuoted := func(s string) {
		add(s)
		if q := strconv.Quote(s); len(q) >= 2 {
			add(q[1 : len(q)-1])
		}
	}
	for _, v := range values {
		addQuoted(v)
		if strings.ContainsAny(v, "\r\n") {
			for _, line := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' }) {
				addQuoted(strings.TrimSpace(line))
			}
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// staticSecrets lists what this provider's configuration holds that came
// from env() or file() (see config.ProviderBlock.Secret and SecretConfig), and
// the plugin paths derived from a plugin or plugin_dir read that way: known
// before the plugin starts, scrubbed from everything the host reports about
// it. Raw values; secretForms expands them.
func (in *instance) staticSecrets() []string {
	var vals []string
	for k := range in.spec.SecretConfig {
		vals = append(vals, in.spec.Config[k])
		if in.spec.IsSecret("config") {
			vals = append(vals, k)
		}
	}
	if in.spec.IsSecret("sha256") {
		vals = append(vals, in.spec.SHA256, strings.ToUpper(in.spec.SHA256))
	}
	secretName := in.spec.IsSecret("plugin")
	if secretName || in.host.pluginDirSecret {
		if secretName {
			vals = append(vals, in.spec.Plugin)
		}
		dir := in.host.pluginDir
		cand := in.spec.Plugin
		if !filepath.IsAbs(cand) {
			cand = filepath.Join(dir, cand)
		}
		vals = append(vals, cand)
		if real, err := filepath.EvalSymlinks(cand); err == nil {
			vals = append(vals, real)
		}
		if in.host.pluginDirSecret {
			vals = append(vals, dir)
			if real, err := filepath.EvalSymlinks(dir); err == nil {
				vals = append(vals, real)
			}
		}
	}
	return vals
}

// configSecrets lists the values of cfg (the Configure map, paths made
// absolute) that came from env() or file() in the configuration, with the
// values as written, in every form secretForms makes.
func (in *instance) configSecrets(info provider.InfoResponse, cfg map[string]string) []string {
	vals := sensitiveValues(info, cfg)
	for k := range in.spec.SecretConfig {
		vals = append(vals, cfg[k])
	}
	return secretForms(append(vals, in.staticRaw...)...)
}

// scrub replaces every secret in s. Our plugins never quote their tokens
// (tests show it); this is for the ones we did not write.
func scrub(s string, secrets []string) string {
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, redactedMark)
	}
	return s
}

// scrubError returns err with secrets removed from its text. A
// *provider.Error becomes a scrubbed copy, so errors.As cannot reach the
// original message; anything else keeps its chain for errors.Is.
func scrubError(err error, secrets []string) error {
	if err == nil || len(secrets) == 0 {
		return err
	}
	var pe *provider.Error
	if errors.As(err, &pe) && err == error(pe) {
		return scrubProviderError(pe, secrets)
	}
	if msg := scrub(err.Error(), secrets); msg != err.Error() {
		return &redactedError{msg: msg, err: err}
	}
	return err
}

func scrubProviderError(e *provider.Error, secrets []string) *provider.Error {
	if e == nil || len(secrets) == 0 {
		return e
	}
	c := *e
	c.Message = scrub(c.Message, secrets)
	c.Reference = scrub(c.Reference, secrets)
	return &c
}

type redactedError struct {
	msg string
	err error
}

func (r *redactedError) Error() string { return r.msg }

// Is keeps errors.Is(err, sentinel) working without exposing the
// unredacted text through Unwrap.
func (r *redactedError) Is(target error) bool { return errors.Is(r.err, target) }

// secretsNow is what to scrub now: the static secrets, plus, once the plugin
// is configured, the values its schema marks sensitive. Safe to call with
// in.mu held (the logger does, from go-plugin's goroutines too).
func (in *instance) secretsNow() []string {
	if p := in.secrets.Load(); p != nil {
		return *p
	}
	return in.static
}

func (in *instance) scrub(s string) string { return scrub(s, in.secretsNow()) }
