# secrethost: build, test, benchmark and demo.
# Every target works on a fresh machine with Go 1.26; `make proto` also
# needs protoc (Debian's protobuf-compiler 3.21.12, installed on demand).

GO       ?= go
BIN      := $(CURDIR)/bin
PLUGINS  := $(BIN)/plugins
GOBIN_DIR := $(CURDIR)/.bin
export CGO_ENABLED ?= 0

.PHONY: all build test vet fmt fmt-check proto proto-check proto-python python-provider bench demo reliability clean

all: build

# One version for the host and every plugin (internal/version), from
# `git describe` unless VERSION is given.
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/secrethost/secrethost/internal/version.Version=$(VERSION)

build:
	@mkdir -p $(PLUGINS)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/secrethost ./host/cmd/secrethost
	$(GO) build -ldflags "$(LDFLAGS)" -o $(PLUGINS)/onepassword-connect ./plugins/onepassword-connect
	$(GO) build -ldflags "$(LDFLAGS)" -o $(PLUGINS)/onepassword-sa ./plugins/onepassword-sa
	$(GO) build -ldflags "$(LDFLAGS)" -o $(PLUGINS)/file ./examples/file-provider
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/connect-emulator ./plugins/onepassword-connect/emulator/cmd/connect-emulator

# vet and gofmt first: they are cheap and catch what the race run would
# only trip over later.
test: vet fmt-check
	bash scripts/fuzzresult_test.sh
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '\.pb\.go$$')

fmt-check:
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go' | grep -v '\.pb\.go$$')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Generators are pinned in tools/go.mod (a separate module, so they stay out
# of the SDK's dependency graph); protoc is Debian's 3.21.12, whose version
# the generated headers record.
$(GOBIN_DIR)/protoc-gen-go $(GOBIN_DIR)/protoc-gen-go-grpc: tools/go.mod
	cd tools && GOBIN=$(GOBIN_DIR) $(GO) install tool

proto: $(GOBIN_DIR)/protoc-gen-go $(GOBIN_DIR)/protoc-gen-go-grpc
	@command -v protoc >/dev/null || (apt-get update -qq && apt-get install -y -qq protobuf-compiler)
	PATH=$(GOBIN_DIR):$$PATH protoc -I shared/proto \
	  --go_out=. --go_opt=module=github.com/secrethost/secrethost \
	  --go-grpc_out=. --go-grpc_opt=module=github.com/secrethost/secrethost \
	  shared/proto/secrethost/provider/v1/provider.proto

proto-check: proto
	git diff --exit-code -- shared/internal/

# The Python example provider: its protobuf and gRPC code, generated with
# Debian's protoc and grpc_python_plugin (installed on demand), and the
# plugin itself, one executable zip application.
proto-python:
	./examples/python-provider/generate.sh

python-provider:
	@mkdir -p $(PLUGINS)
	./examples/python-provider/build.sh $(PLUGINS)/pyfile

# The conformance kit (shared/providertest) against any plugin binary, in
# any language, launched with the host's trust rules:
#   make conformance PLUGIN=bin/plugins/file CONFIG='dir=/srv/secrets' \
#     VALID='file://a file://b' MISSING='file://nope' INVALID='file://../x'
# Each list is words quoted as in a POSIX shell, without expansion:
# VALID='file://"a b" file://c' has two references, the first with a space.
# Optional: BAD_CONFIG and SENSITIVE_CONFIG (key=value words, like CONFIG).
# Prints PASS, FAIL (with the reason) or SKIP per check; exits 1 on a failure.
.PHONY: conformance
conformance:
	@test -n "$$PLUGIN" || { echo "usage: make conformance PLUGIN=<path> CONFIG='key=value ...' VALID='<refs>' MISSING='<refs>' INVALID='<refs>'" >&2; exit 2; }
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/conformance ./shared/providertest/cmd/conformance
	$(BIN)/conformance -plugin "$$PLUGIN" -config "$$CONFIG" -valid "$$VALID" -missing "$$MISSING" -invalid "$$INVALID" \
	  -bad-config "$$BAD_CONFIG" -sensitive-config "$$SENSITIVE_CONFIG"

# Benchmarks: medians over repeated runs, summarised by scripts/bench.
bench:
	./scripts/bench

demo: build
	./scripts/demo

# Fuzz every parser for FUZZTIME each (default 30s), then the full-size
# fault, load and hygiene tests; figures go to reliability-results/ and
# RELIABILITY.md. `make test` runs the same tests in their short form.
reliability:
	./scripts/reliability

clean:
	rm -rf $(BIN) $(GOBIN_DIR)
