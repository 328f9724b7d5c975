package host

import (
	"errors"
	"slices"
	"strings"

	"github.com/secrethost/secrethost/shared/provider"
)

// redactedMark replaces a configured secret found in a plugin's words.
const redactedMark = "<redacted>"

// minSecretLen keeps very short values from turning ordinary words into
// redaction marks; no real token is this short.
const minSecretLen = 4

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

func (in *instance) secretsNow() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.secrets
}

func (in *instance) scrub(s string) string { return scrub(s, in.secretsNow()) }

func (in *instance) scrubError(err error) error { return scrubError(err, in.secretsNow()) }

// scrubResult is for per-reference errors reported by the plugin.
func (in *instance) scrubResult(e *provider.Error) *provider.Error {
	return scrubProviderError(e, in.secretsNow())
}
