package plugin

import (
	"strings"
	"time"
	"unicode/utf8"

	pb "github.com/secrethost/secrethost/shared/internal/providerv1"
	"github.com/secrethost/secrethost/shared/provider"
)

// The protobuf types stop here: everything else sees package provider.
//
// Every string a plugin sends goes through text first: protobuf refuses to
// marshal a string that is not valid UTF-8, and one such byte in one error
// message would otherwise fail the whole batch (as terraform-plugin-go's
// ForceValidUTF8 prevents too).

// text makes s valid UTF-8, each invalid byte sequence becoming U+FFFD.
func text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func texts(in []string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = text(s)
	}
	return out
}

func errorToProto(e *provider.Error) *pb.Error {
	if e == nil {
		return nil
	}
	return &pb.Error{
		Code:         pb.Code(e.Code),
		Reference:    text(e.Reference),
		Message:      text(e.Message),
		RetryAfterMs: e.RetryAfter.Milliseconds(),
	}
}

func errorFromProto(e *pb.Error) *provider.Error {
	if e == nil {
		return nil
	}
	code := provider.Code(e.GetCode())
	if code < provider.CodeUnspecified || code > provider.CodeInternal {
		// A newer plugin may send a code this host does not know.
		code = provider.CodeInternal
	}
	return &provider.Error{
		Code:       code,
		Reference:  e.GetReference(),
		Message:    e.GetMessage(),
		RetryAfter: time.Duration(e.GetRetryAfterMs()) * time.Millisecond,
	}
}

// callError turns a call-level error from a response into a Go error,
// keeping the nil interface nil.
func callError(e *pb.Error) error {
	if e == nil {
		return nil
	}
	return errorFromProto(e)
}

func infoToProto(in provider.InfoResponse) *pb.GetInfoResponse {
	out := &pb.GetInfoResponse{
		Name:            text(in.Name),
		Version:         text(in.Version),
		ProtocolVersion: uint32(provider.ProtocolVersion),
		Schemes:         texts(in.Schemes),
		UsesNetwork:     in.UsesNetwork,
	}
	for _, a := range in.ConfigSchema {
		out.ConfigSchema = append(out.ConfigSchema, &pb.ConfigAttribute{
			Name: text(a.Name), Description: text(a.Description), Required: a.Required, Sensitive: a.Sensitive,
			Path: a.Path || a.SecretFile, SecretFile: a.SecretFile,
		})
	}
	return out
}

func infoFromProto(in *pb.GetInfoResponse) provider.InfoResponse {
	out := provider.InfoResponse{
		Name:            in.GetName(),
		Version:         in.GetVersion(),
		ProtocolVersion: int(in.GetProtocolVersion()),
		Schemes:         in.GetSchemes(),
		UsesNetwork:     in.GetUsesNetwork(),
	}
	for _, a := range in.GetConfigSchema() {
		out.ConfigSchema = append(out.ConfigSchema, provider.ConfigAttribute{
			Name: a.GetName(), Description: a.GetDescription(), Required: a.GetRequired(), Sensitive: a.GetSensitive(),
			Path: a.GetPath() || a.GetSecretFile(), SecretFile: a.GetSecretFile(),
		})
	}
	return out
}

func validateToProto(in provider.ValidateResponse) *pb.ValidateResponse {
	out := &pb.ValidateResponse{Results: make([]*pb.ValidateResult, 0, len(in.Results))}
	for _, r := range in.Results {
		out.Results = append(out.Results, &pb.ValidateResult{Reference: text(r.Reference), Error: errorToProto(r.Err)})
	}
	return out
}

func validateFromProto(in *pb.ValidateResponse) provider.ValidateResponse {
	out := provider.ValidateResponse{Results: make([]provider.ValidateResult, 0, len(in.GetResults()))}
	for _, r := range in.GetResults() {
		out.Results = append(out.Results, provider.ValidateResult{Reference: r.GetReference(), Err: errorFromProto(r.GetError())})
	}
	return out
}

func resolveToProto(in provider.ResolveResponse) *pb.ResolveResponse {
	out := &pb.ResolveResponse{Results: make([]*pb.ResolveResult, 0, len(in.Results))}
	for _, r := range in.Results {
		res := &pb.ResolveResult{Reference: text(r.Reference), Error: errorToProto(r.Err)}
		if r.Err == nil {
			res.Value = r.Value
		}
		out.Results = append(out.Results, res)
	}
	return out
}

func resolveFromProto(in *pb.ResolveResponse) provider.ResolveResponse {
	out := provider.ResolveResponse{Results: make([]provider.ResolveResult, 0, len(in.GetResults()))}
	for _, r := range in.GetResults() {
		res := provider.ResolveResult{Reference: r.GetReference(), Err: errorFromProto(r.GetError())}
		if res.Err == nil {
			// proto3 cannot tell an empty value from an absent one; without
			// an error, the value is what the provider sent, even if empty.
			res.Value = r.GetValue()
			if res.Value == nil {
				res.Value = []byte{}
			}
		}
		out.Results = append(out.Results, res)
	}
	return out
}

func checkToProto(in provider.CheckResponse) *pb.CheckResponse {
	out := &pb.CheckResponse{Healthy: in.Healthy}
	for _, it := range in.Items {
		out.Items = append(out.Items, &pb.CheckItem{Name: text(it.Name), Ok: it.OK, Detail: text(it.Detail)})
	}
	return out
}

func checkFromProto(in *pb.CheckResponse) provider.CheckResponse {
	out := provider.CheckResponse{Healthy: in.GetHealthy()}
	for _, it := range in.GetItems() {
		out.Items = append(out.Items, provider.CheckItem{Name: it.GetName(), OK: it.GetOk(), Detail: it.GetDetail()})
	}
	return out
}
