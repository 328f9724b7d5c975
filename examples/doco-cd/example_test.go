package dococd_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/hashicorp/go-hclog"

	dococd "github.com/secrethost/secrethost/examples/doco-cd"
	"github.com/secrethost/secrethost/host"
)

// deployConfig stands for doco-cd's DeployConfig, of which only
// ExternalSecrets matters here.
type deployConfig struct {
	ExternalSecrets map[string]string `yaml:"external_secrets"`
}

// This is doco-cd's deploy path with secrethost in place of its compiled-in
// providers.
func Example() {
	ctx := context.Background()
	logger := hclog.New(&hclog.LoggerOptions{Name: "doco-cd"})

	// At start-up (doco-cd: secretprovider.Initialize).
	provider, err := dococd.Open(logger)
	if err != nil {
		log.Fatalf("secret provider: %v", err) // e.g. SECRET_PROVIDER names no provider
	}
	defer provider.Close()

	// For each deployment (doco-cd: the .doco-cd.yml's external_secrets).
	cfg := deployConfig{ExternalSecrets: map[string]string{
		"DB_PASSWORD": "op://Demo/Postgres/password",
		"GITHUB_OTP":  "op://Demo/GitHub/one-time password?attribute=otp",
	}}
	resolved, err := provider.ResolveSecretReferences(ctx, cfg.ExternalSecrets)
	var rerr *host.ResolveError
	switch {
	case errors.As(err, &rerr):
		for _, f := range rerr.Failures { // never holds a value
			log.Printf("%s (%s): %s", f.Name, f.Reference, f.Err.Message)
		}
		return
	case err != nil:
		log.Printf("secret provider: %v", err)
		return
	}
	fmt.Println(len(resolved), "secrets for docker compose's environment")
}
