package provider

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error. Codes survive the wire; messages are for humans.
type Code int

const (
	CodeUnspecified Code = iota
	// CodeInvalidReference: the reference is malformed or not for this provider.
	CodeInvalidReference
	// CodeNotFound: the vault, item or field does not exist (or is not visible).
	CodeNotFound
	// CodeAmbiguous: several candidates match; the message lists them.
	CodeAmbiguous
	// CodePermissionDenied: the credentials may not read this secret.
	CodePermissionDenied
	// CodeUnauthenticated: the credentials are missing, wrong or expired.
	CodeUnauthenticated
	// CodeRateLimited: the backend asked us to slow down; see RetryAfter.
	CodeRateLimited
	// CodeUnavailable: the backend or the plugin could not be reached.
	CodeUnavailable
	// CodeInvalidConfig: the provider's configuration is wrong.
	CodeInvalidConfig
	// CodeInternal: a bug or an unexpected answer.
	CodeInternal
)

var codeNames = map[Code]string{
	CodeUnspecified:      "unspecified",
	CodeInvalidReference: "invalid_reference",
	CodeNotFound:         "not_found",
	CodeAmbiguous:        "ambiguous",
	CodePermissionDenied: "permission_denied",
	CodeUnauthenticated:  "unauthenticated",
	CodeRateLimited:      "rate_limited",
	CodeUnavailable:      "unavailable",
	CodeInvalidConfig:    "invalid_config",
	CodeInternal:         "internal",
}

// String returns the code's stable snake_case name, e.g. "not_found".
func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Sentinels for errors.Is: any *Error matches the sentinel of its code, so
// callers can write errors.Is(err, provider.ErrNotFound).
var (
	ErrInvalidReference = &Error{Code: CodeInvalidReference}
	ErrNotFound         = &Error{Code: CodeNotFound}
	ErrAmbiguous        = &Error{Code: CodeAmbiguous}
	ErrPermissionDenied = &Error{Code: CodePermissionDenied}
	ErrUnauthenticated  = &Error{Code: CodeUnauthenticated}
	ErrRateLimited      = &Error{Code: CodeRateLimited}
	ErrUnavailable      = &Error{Code: CodeUnavailable}
	ErrInvalidConfig    = &Error{Code: CodeInvalidConfig}
	ErrInternal         = &Error{Code: CodeInternal}
)

// Error is the contract's error: a code, the reference it concerns, and a
// message for humans. It must never contain a secret value.
type Error struct {
	Code      Code
	Reference string
	Message   string
	// RetryAfter is set with CodeRateLimited when the backend said how long
	// to wait.
	RetryAfter time.Duration
}

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, reference, format string, args ...any) *Error {
	return &Error{Code: code, Reference: reference, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Code.String()
	}
	if e.Reference != "" {
		msg = fmt.Sprintf("%s: %s", e.Reference, msg)
	}
	if e.Code == CodeRateLimited && e.RetryAfter > 0 {
		msg = fmt.Sprintf("%s (retry after %s)", msg, e.RetryAfter)
	}
	return msg
}

// Is matches sentinels by code: errors.Is(err, ErrNotFound).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Message == "" && t.Reference == "" && t.Code == e.Code
}

// AsError converts any error into an *Error: an *Error in the chain is
// returned as is, anything else becomes CodeInternal with err's message.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return &Error{Code: CodeInternal, Message: err.Error()}
}
