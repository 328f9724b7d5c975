package plugin

import (
	"context"

	pb "github.com/secrethost/secrethost/shared/internal/providerv1"
	"github.com/secrethost/secrethost/shared/provider"
)

// server is the plugin-side adapter: it serves ProviderService by calling
// the author's provider.Provider. Errors a provider returns travel as data
// in the response, so the host gets their code, not a gRPC status string.
type server struct {
	pb.UnimplementedProviderServiceServer
	impl provider.Provider
}

var _ pb.ProviderServiceServer = (*server)(nil)

func (s *server) GetInfo(ctx context.Context, _ *pb.GetInfoRequest) (*pb.GetInfoResponse, error) {
	info, err := s.impl.GetInfo(ctx, provider.InfoRequest{})
	if err != nil {
		return &pb.GetInfoResponse{Error: errorToProto(provider.AsError(err))}, nil
	}
	return infoToProto(info), nil
}

func (s *server) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	cfg := req.GetConfig()
	if cfg == nil {
		cfg = map[string]string{}
	}
	resp, err := s.impl.Configure(ctx, provider.ConfigureRequest{Config: cfg})
	if err != nil {
		return &pb.ConfigureResponse{Error: errorToProto(provider.AsError(err))}, nil
	}
	return &pb.ConfigureResponse{Warnings: texts(resp.Warnings)}, nil
}

func (s *server) Validate(ctx context.Context, req *pb.ValidateRequest) (*pb.ValidateResponse, error) {
	resp, err := s.impl.Validate(ctx, provider.ValidateRequest{References: req.GetReferences()})
	if err != nil {
		return &pb.ValidateResponse{Error: errorToProto(provider.AsError(err))}, nil
	}
	return validateToProto(resp), nil
}

func (s *server) Resolve(ctx context.Context, req *pb.ResolveRequest) (*pb.ResolveResponse, error) {
	resp, err := s.impl.Resolve(ctx, provider.ResolveRequest{References: req.GetReferences()})
	if err != nil {
		return &pb.ResolveResponse{Error: errorToProto(provider.AsError(err))}, nil
	}
	return resolveToProto(resp), nil
}

func (s *server) Check(ctx context.Context, _ *pb.CheckRequest) (*pb.CheckResponse, error) {
	resp, err := s.impl.Check(ctx, provider.CheckRequest{})
	if err != nil {
		return &pb.CheckResponse{Error: errorToProto(provider.AsError(err))}, nil
	}
	return checkToProto(resp), nil
}

func (s *server) Close(ctx context.Context, _ *pb.CloseRequest) (*pb.CloseResponse, error) {
	if err := s.impl.Close(ctx); err != nil {
		return &pb.CloseResponse{Error: errorToProto(provider.AsError(err))}, nil
	}
	return &pb.CloseResponse{}, nil
}
