package connect

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/1Password/connect-sdk-go/onepassword"

	"github.com/secrethost/secrethost/plugins/internal/opref"
	"github.com/secrethost/secrethost/shared/provider"
)

// noAccessHint ends every message about a vault the token cannot read:
// the most common cause by far, and not obvious from a 403 or a 404.
const noAccessHint = "Connect tokens can only read the vaults they were granted when the token was created"

type nowFunc func() time.Time

// failure is an error shared by every reference that depends on the same
// lookup; forRef turns it into the contract's error for one reference.
type failure struct {
	code       provider.Code
	msg        string
	retryAfter time.Duration
	// itemMissing: Connect said the item (not its vault) does not exist.
	itemMissing bool
	// vaultMissing: Connect said the vault does not exist (404).
	vaultMissing bool
}

func fail(code provider.Code, format string, args ...any) *failure {
	return &failure{code: code, msg: fmt.Sprintf(format, args...)}
}

func (f *failure) forRef(ref string) *provider.Error {
	return &provider.Error{Code: f.code, Reference: ref, Message: f.msg, RetryAfter: f.retryAfter}
}

// subject says what a failed SDK call was about, for messages.
type subject struct {
	action  string // e.g. "looking up vault", "reading item"
	vault   string // as the reference names it
	vaultID string // "" when not known yet
	item    string // as the reference names it, "" for vault-level calls
	itemID  string // "" unless fetched by ID
	what    string // instead of vault and item, e.g. "GET /heartbeat"
}

func (s subject) vaultDesc() string {
	switch {
	case s.vaultID == "":
		return fmt.Sprintf("%q", s.vault)
	case s.vault == s.vaultID:
		return s.vaultID
	}
	return fmt.Sprintf("%q (%s)", s.vault, s.vaultID)
}

func (s subject) itemDesc() string {
	if s.itemID != "" && s.itemID != s.item {
		return fmt.Sprintf("%q (%s)", s.item, s.itemID)
	}
	if opref.IsID(s.item) {
		return s.item
	}
	return fmt.Sprintf("%q", s.item)
}

// failureFor maps what an SDK call returned, plus what the transport saw,
// to a contract code. The transport's record of the op's first failed
// request wins over the SDK's error: the SDK builds its status from the
// JSON body, drops Retry-After, and in GetItem replaces a failed fetch by
// an unrelated "Found 0 item(s)".
func (r *resolver) failureFor(o *op, err error, s subject) *failure {
	out := o.outcome()
	tfail := out.fail
	var te *transportError
	if !out.failed && errors.As(err, &te) {
		tfail = te
	}
	if tfail != nil {
		switch tfail.kind {
		case failCanceled:
			return fail(provider.CodeUnavailable, "gave up %s: the call was canceled or reached its deadline before Connect answered", s.action+" "+s.target())
		case failTimeout:
			return fail(provider.CodeUnavailable, "Connect at %s did not answer %s within %s (request_timeout); %s",
				r.s.host, s.action+" "+s.target(), r.s.timeout, plural(tfail.attempts, "attempt"))
		case failBadBody:
			// A proxy's or another server's page, or a damaged answer.
			return fail(provider.CodeUnavailable, "Connect at %s sent a broken answer while %s: %v; if this persists, check that %s is the Connect server itself and not a proxy's page",
				r.s.host, s.action+" "+s.target(), tfail, AttrHost)
		default:
			return fail(provider.CodeUnavailable, "cannot reach Connect at %s while %s: %v", r.s.host, s.action+" "+s.target(), tfail)
		}
	}

	status, msg := out.status, out.message
	var oe *onepassword.Error
	if errors.As(err, &oe) {
		if msg == "" {
			msg = oe.Message
		}
		if !out.failed {
			status = oe.StatusCode // a response the transport did not see fail: trust the SDK
		}
	} else if !out.failed {
		// A plain SDK error after successful requests: a body it could
		// not decode, or a result it did not expect.
		if err != nil && strings.HasPrefix(err.Error(), "decoding") {
			return fail(provider.CodeInternal, "unexpected answer from Connect while %s: %v", s.action+" "+s.target(), err)
		}
		return fail(provider.CodeInternal, "unexpected result while %s: %v", s.action+" "+s.target(), err)
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	answered := fmt.Sprintf("Connect answered %d", status)
	if msg != "" {
		answered += ": " + msg
	}

	switch {
	case s.what != "" && (status == http.StatusForbidden || status == http.StatusNotFound):
		return fail(provider.CodeInternal, "unexpected answer while %s: %s", s.action+" "+s.target(), answered)
	case status == http.StatusUnauthorized:
		return fail(provider.CodeUnauthenticated, "Connect rejected the token (%s); check %s (is it the right token, and still valid?)", answered, r.s.tokenFrom)
	case status == http.StatusForbidden:
		return fail(provider.CodePermissionDenied, "the token may not have access to vault %s (%s while %s). %s",
			s.vaultDesc(), answered, s.action+" "+s.target(), noAccessHint)
	case status == http.StatusNotFound:
		if s.item == "" || strings.HasPrefix(strings.ToLower(msg), "vault") {
			f := fail(provider.CodeNotFound, "vault %s not found (%s); the ID may be wrong, or the token may not have access to it. %s",
				s.vaultDesc(), answered, noAccessHint)
			f.vaultMissing = true
			return f
		}
		f := fail(provider.CodeNotFound, "item %s not found in vault %s (%s)", s.itemDesc(), s.vaultDesc(), answered)
		f.itemMissing = true
		return f
	case status == http.StatusTooManyRequests:
		f := fail(provider.CodeRateLimited, "Connect is limiting requests (%s) while %s", answered, s.action+" "+s.target())
		f.retryAfter = out.retryAfter
		return f
	case status >= 500:
		return fail(provider.CodeUnavailable, "Connect failed while %s (%s)", s.action+" "+s.target(), answered)
	case status == http.StatusBadRequest:
		return fail(provider.CodeInvalidReference, "Connect rejected the request while %s (%s)", s.action+" "+s.target(), answered)
	}
	return fail(provider.CodeInternal, "unexpected answer from Connect while %s: %s", s.action+" "+s.target(), answered)
}

func (s subject) target() string {
	if s.what != "" {
		return s.what
	}
	if s.item == "" {
		return "vault " + s.vaultDesc()
	}
	return "item " + s.itemDesc() + " in vault " + s.vaultDesc()
}
