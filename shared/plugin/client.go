package plugin

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/secrethost/secrethost/shared/internal/providerv1"
	"github.com/secrethost/secrethost/shared/provider"
)

// ErrPluginUnavailable means the plugin process did not answer: it exited,
// crashed or closed its connection. The host reacts by restarting it.
var ErrPluginUnavailable = errors.New("plugin is not responding (it may have crashed)")

// ErrProtocol means the plugin answered in a way the contract forbids, such
// as a result for a reference it was not asked about.
var ErrProtocol = errors.New("plugin broke the provider protocol")

// Client is the host-side adapter: a provider.Provider backed by a plugin
// process over gRPC.
type Client struct {
	rpc  pb.ProviderServiceClient
	done context.Context // cancelled when the plugin process exits
}

var _ provider.Provider = (*Client)(nil)

func (c *Client) GetInfo(ctx context.Context, _ provider.InfoRequest) (provider.InfoResponse, error) {
	resp, err := c.rpc.GetInfo(ctx, &pb.GetInfoRequest{}, lenient)
	if err != nil {
		return provider.InfoResponse{}, c.transportError("GetInfo", err)
	}
	if err := callError(resp.GetError()); err != nil {
		return provider.InfoResponse{}, err
	}
	return infoFromProto(resp), nil
}

func (c *Client) Configure(ctx context.Context, req provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	// gRPC cannot send a string that is not UTF-8; say which, not "the
	// plugin broke the protocol". Keys only: a value may be a token.
	for k, v := range req.Config {
		if !utf8.ValidString(k) {
			return provider.ConfigureResponse{}, provider.Errorf(provider.CodeInvalidConfig, "", "a configuration attribute name is not valid UTF-8 text")
		}
		if !utf8.ValidString(v) {
			return provider.ConfigureResponse{}, provider.Errorf(provider.CodeInvalidConfig, "", "the value of %s is not valid UTF-8 text (the value is not shown)", k)
		}
	}
	resp, err := c.rpc.Configure(ctx, &pb.ConfigureRequest{Config: req.Config}, lenient)
	if err != nil {
		return provider.ConfigureResponse{}, c.transportError("Configure", err)
	}
	if err := callError(resp.GetError()); err != nil {
		return provider.ConfigureResponse{}, err
	}
	return provider.ConfigureResponse{Warnings: resp.GetWarnings()}, nil
}

func (c *Client) Validate(ctx context.Context, req provider.ValidateRequest) (provider.ValidateResponse, error) {
	if sent, bad := splitInvalid(req.References); bad != nil {
		out := provider.ValidateResponse{Results: make([]provider.ValidateResult, len(req.References))}
		got := provider.ValidateResponse{}
		if len(sent) > 0 {
			var err error
			if got, err = c.Validate(ctx, provider.ValidateRequest{References: sent}); err != nil {
				return got, err
			}
		}
		for i, ref := range req.References {
			if e := bad[i]; e != nil {
				out.Results[i] = provider.ValidateResult{Reference: ref, Err: e}
			} else {
				out.Results[i], got.Results = got.Results[0], got.Results[1:]
			}
		}
		return out, nil
	}
	resp, err := c.rpc.Validate(ctx, &pb.ValidateRequest{References: req.References}, lenient)
	if err != nil {
		return provider.ValidateResponse{}, c.transportError("Validate", err)
	}
	if err := callError(resp.GetError()); err != nil {
		return provider.ValidateResponse{}, err
	}
	out := validateFromProto(resp)
	refs := make([]string, len(out.Results))
	for i, r := range out.Results {
		refs[i] = r.Reference
	}
	if err := checkBatch("Validate", req.References, refs); err != nil {
		return provider.ValidateResponse{}, err
	}
	return out, nil
}

func (c *Client) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	if sent, bad := splitInvalid(req.References); bad != nil {
		out := provider.ResolveResponse{Results: make([]provider.ResolveResult, len(req.References))}
		got := provider.ResolveResponse{}
		if len(sent) > 0 {
			var err error
			if got, err = c.Resolve(ctx, provider.ResolveRequest{References: sent}); err != nil {
				return got, err
			}
		}
		for i, ref := range req.References {
			if e := bad[i]; e != nil {
				out.Results[i] = provider.ResolveResult{Reference: ref, Err: e}
			} else {
				out.Results[i], got.Results = got.Results[0], got.Results[1:]
			}
		}
		return out, nil
	}
	resp, err := c.rpc.Resolve(ctx, &pb.ResolveRequest{References: req.References}, lenient)
	if err != nil {
		return provider.ResolveResponse{}, c.transportError("Resolve", err)
	}
	if err := callError(resp.GetError()); err != nil {
		return provider.ResolveResponse{}, err
	}
	out := resolveFromProto(resp)
	refs := make([]string, len(out.Results))
	for i, r := range out.Results {
		refs[i] = r.Reference
	}
	if err := checkBatch("Resolve", req.References, refs); err != nil {
		return provider.ResolveResponse{}, err
	}
	return out, nil
}

func (c *Client) Check(ctx context.Context, _ provider.CheckRequest) (provider.CheckResponse, error) {
	resp, err := c.rpc.Check(ctx, &pb.CheckRequest{}, lenient)
	if err != nil {
		return provider.CheckResponse{}, c.transportError("Check", err)
	}
	if err := callError(resp.GetError()); err != nil {
		return provider.CheckResponse{}, err
	}
	return checkFromProto(resp), nil
}

func (c *Client) Close(ctx context.Context) error {
	resp, err := c.rpc.Close(ctx, &pb.CloseRequest{}, lenient)
	if err != nil {
		return c.transportError("Close", err)
	}
	return callError(resp.GetError())
}

// splitInvalid sorts out the references gRPC cannot send (not valid
// UTF-8): they fail on their own, here, instead of failing the batch. bad
// is nil when every reference can be sent; otherwise it holds an error at
// the index of each that cannot, and sent the others, in order.
func splitInvalid(refs []string) (sent []string, bad []*provider.Error) {
	for i, ref := range refs {
		if utf8.ValidString(ref) {
			continue
		}
		if bad == nil {
			bad = make([]*provider.Error, len(refs))
		}
		// The reference field must match what was asked; the message
		// shows nothing of it.
		bad[i] = provider.Errorf(provider.CodeInvalidReference, ref, "not valid UTF-8 text, so not a secret reference (its bytes are not shown)")
	}
	if bad == nil {
		return refs, nil
	}
	for i, ref := range refs {
		if bad[i] == nil {
			sent = append(sent, ref)
		}
	}
	return sent, bad
}

// checkBatch enforces "one result per reference, in order" on the host side,
// so a buggy plugin cannot shift values onto the wrong variables.
func checkBatch(method string, asked, got []string) error {
	if len(asked) != len(got) {
		return fmt.Errorf("%w: %s returned %d results for %d references", ErrProtocol, method, len(got), len(asked))
	}
	for i := range asked {
		if asked[i] != got[i] {
			return fmt.Errorf("%w: %s result %d is for %q, but %q was asked", ErrProtocol, method, i+1, got[i], asked[i])
		}
	}
	return nil
}

// transportError translates a gRPC failure once, here, so that callers deal
// in context errors and ErrPluginUnavailable rather than status codes.
func (c *Client) transportError(method string, err error) error {
	if c.done != nil && c.done.Err() != nil {
		return fmt.Errorf("%s: %w", method, ErrPluginUnavailable)
	}
	switch status.Code(err) {
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s: %w", method, context.DeadlineExceeded)
	case codes.Canceled:
		return fmt.Errorf("%s: %w", method, context.Canceled)
	case codes.Unavailable:
		return fmt.Errorf("%s: %w", method, ErrPluginUnavailable)
	case codes.ResourceExhausted:
		// The host's receive limit (MaxMessageSize): the plugin's answer
		// was too large to accept, and was not read.
		return fmt.Errorf("%s: %w: the plugin's answer exceeds the %d-byte message limit (ask for fewer references at a time)", method, ErrProtocol, maxAccepted(err))
	}
	return fmt.Errorf("%s: %w: %s", method, ErrProtocol, status.Convert(err).Message())
}

// Done is closed when the plugin process behind this client has exited.
func (c *Client) Done() <-chan struct{} { return c.done.Done() }

// maxAccepted is the limit a ResourceExhausted status names, or
// MaxMessageSize.
func maxAccepted(err error) int {
	var got, limit int
	if _, e := fmt.Sscanf(status.Convert(err).Message(), "grpc: received message larger than max (%d vs. %d)", &got, &limit); e == nil && limit > 0 {
		return limit
	}
	return MaxMessageSize
}
