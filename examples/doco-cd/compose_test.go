package dococd_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// TestComposeFileLoads loads docker-compose.yml with compose-go's loader
// (what docker compose uses) and checks that doco-cd is built from the
// Dockerfile with doco-cd's source as a named context, runs with Connect,
// and waits for Connect's health.
func TestComposeFileLoads(t *testing.T) {
	wd, _ := os.Getwd()
	b, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  wd,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(wd, "docker-compose.yml"), Content: b}},
		Environment: types.Mapping{"SECRET_PROVIDER_CONNECT_TOKEN": "t", "WEBHOOK_SECRET": "w"},
	}, func(o *loader.Options) { o.SetProjectName("dococd", true) })
	if err != nil {
		t.Fatal(err)
	}
	app, err := p.GetService("app")
	if err != nil {
		t.Fatal(err)
	}
	if app.Build == nil || filepath.Base(app.Build.Dockerfile) != "Dockerfile" || !strings.Contains(app.Build.AdditionalContexts["doco-cd"], "03cbeb36") {
		t.Errorf("app build: %+v", app.Build)
	}
	env := app.Environment
	if v := env["SECRET_PROVIDER"]; v == nil || *v != "1password" {
		t.Errorf("SECRET_PROVIDER: %v", v)
	}
	if v := env["SECRET_PROVIDER_CONNECT_HOST"]; v == nil || *v != "http://op-connect-api:8080" {
		t.Errorf("SECRET_PROVIDER_CONNECT_HOST: %v", v)
	}
	if dep, ok := app.DependsOn["op-connect-api"]; !ok || dep.Condition != types.ServiceConditionHealthy {
		t.Errorf("depends_on: %+v", app.DependsOn)
	}
	api, err := p.GetService("op-connect-api")
	if err != nil {
		t.Fatal(err)
	}
	if api.HealthCheck == nil || len(api.HealthCheck.Test) == 0 {
		t.Errorf("op-connect-api has no health check")
	}
	// Without the token, compose refuses (":?"), rather than start doco-cd
	// with an empty one.
	_, err = loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  wd,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(wd, "docker-compose.yml"), Content: b}},
		Environment: types.Mapping{"WEBHOOK_SECRET": "w"},
	}, func(o *loader.Options) { o.SetProjectName("dococd", true) })
	if err == nil || !strings.Contains(err.Error(), "SECRET_PROVIDER_CONNECT_TOKEN") {
		t.Errorf("no token: %v", err)
	}
}

// TestDockerfileLayout checks what can be checked without a Docker engine:
// doco-cd's layout and the plugin directory.
func TestDockerfileLayout(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		"FROM gcr.io/distroless/base-debian13",
		"/out/doco-cd /doco-cd",
		"ENTRYPOINT [\"/doco-cd\"]",
		"/out/plugins/ /usr/libexec/secrethost/plugins/",
		"SECRETHOST_PLUGIN_DIR=/usr/libexec/secrethost/plugins",
		"CGO_ENABLED=0",
		"-tags nobitwarden",
		"git apply ../secrethost/examples/doco-cd/doco-cd.patch",
		"--chown=root:root --chmod=0755",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	ign, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"bin/", "**/.env", "**/1password-credentials.json", "**/op_connect_token*"} {
		if !strings.Contains(string(ign), want) {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
}
