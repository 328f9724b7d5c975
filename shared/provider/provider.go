// Package provider is the Go face of the secrethost plugin contract: the
// interface a secret provider implements, its requests and responses, and
// the typed errors that cross the wire. Plugin authors import this package
// and shared/plugin; they never see protobuf.
package provider

import (
	"context"
)

// ProtocolVersion is the version of the wire protocol this package speaks.
// It is the go-plugin protocol version, so a host and a plugin that disagree
// fail at the handshake with a clear message instead of misbehaving later.
const ProtocolVersion = 1

// Provider resolves secret references for one or more schemes.
//
// The host calls GetInfo first, then Configure, then any number of Validate,
// Resolve and Check calls, possibly concurrently, and finally Close.
// GetInfo and Validate also work on a provider that is not configured.
// Implementations must be safe for concurrent use after Configure returns.
type Provider interface {
	// GetInfo describes the provider. It must work before Configure.
	GetInfo(ctx context.Context, req InfoRequest) (InfoResponse, error)
	// Configure validates and applies the configuration. A bad
	// configuration is an *Error with CodeInvalidConfig that names the
	// offending attribute and never echoes a sensitive value.
	Configure(ctx context.Context, req ConfigureRequest) (ConfigureResponse, error)
	// Validate checks each reference offline: it must not touch the
	// network, and it must work before Configure too, so references can be
	// checked where no credentials exist (a CI job, say).
	Validate(ctx context.Context, req ValidateRequest) (ValidateResponse, error)
	// Resolve returns exactly one result per reference, in order. A failed
	// reference is a per-result error, not a failed call; the call itself
	// fails only when nothing could be attempted.
	Resolve(ctx context.Context, req ResolveRequest) (ResolveResponse, error)
	// Check reports whether the backend is reachable and the credentials work.
	Check(ctx context.Context, req CheckRequest) (CheckResponse, error)
	// Close releases resources. The provider is not used afterwards.
	Close(ctx context.Context) error
}

// ConfigAttribute describes one configuration attribute a provider accepts.
type ConfigAttribute struct {
	Name        string
	Description string
	Required    bool
	// Sensitive attributes (tokens, passwords) are never logged or echoed.
	Sensitive bool
	// Path marks a file system path. The host makes a relative value
	// absolute before Configure (against the caller's working directory for
	// a value from the environment, against the configuration file's
	// directory for one from config.hcl): a plugin never receives a relative
	// path, and its working directory means nothing.
	Path bool
	// SecretFile marks the path of a file whose content is a secret (a token
	// file); it implies Path. The host reads that file only to treat its
	// content exactly like a Sensitive value: scrubbed from whatever the
	// plugin says, masked and withheld from the command by `secrethost run`.
	SecretFile bool
}

// InfoRequest is the input of GetInfo.
type InfoRequest struct{}

// InfoResponse describes a provider.
type InfoResponse struct {
	Name    string
	Version string
	// ProtocolVersion is filled in by the SDK; providers leave it zero.
	ProtocolVersion int
	// Schemes are the reference schemes handled, without "://" (e.g. "op").
	Schemes []string
	// ConfigSchema lists the accepted configuration attributes.
	ConfigSchema []ConfigAttribute
	// UsesNetwork says the provider talks to a backend over the network.
	// Only such a plugin gets the host's network settings in its
	// environment: HTTP_PROXY, HTTPS_PROXY, NO_PROXY (upper and lower
	// case), SSL_CERT_FILE and SSL_CERT_DIR, as the host has them; nothing
	// else of the host's environment ever reaches a plugin. A plugin that
	// says so is started a second time with them (the host learns the flag
	// from GetInfo, which needs a running plugin), so the flag must not
	// depend on the configuration.
	UsesNetwork bool
}

// ConfigureRequest carries the configuration as attribute name to value.
// An attribute that is absent is not set.
type ConfigureRequest struct {
	Config map[string]string
}

// ConfigureResponse may carry warnings for the host to log.
type ConfigureResponse struct {
	Warnings []string
}

// ValidateRequest is a batch of references to check offline.
type ValidateRequest struct {
	References []string
}

// ValidateResult is the verdict on one reference; Err is nil when valid.
type ValidateResult struct {
	Reference string
	Err       *Error
}

// ValidateResponse holds one result per reference, in request order.
type ValidateResponse struct {
	Results []ValidateResult
}

// ResolveRequest is a batch of references. It may contain duplicates.
type ResolveRequest struct {
	References []string
}

// ResolveResult is the outcome for one reference: a value or an error.
type ResolveResult struct {
	Reference string
	Value     []byte
	Err       *Error
}

// ResolveResponse holds one result per reference, in request order.
type ResolveResponse struct {
	Results []ResolveResult
}

// CheckRequest is the input of Check.
type CheckRequest struct{}

// CheckItem is one line of a health report, e.g. "backend reachable".
type CheckItem struct {
	Name   string
	OK     bool
	Detail string
}

// CheckResponse is a health report for humans and for `secrethost doctor`.
type CheckResponse struct {
	Healthy bool
	Items   []CheckItem
}
