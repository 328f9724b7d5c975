#!/bin/sh
# Regenerates the Python protobuf and gRPC code of the example provider
# (src/secrethost/..., src/goplugin/...) from
#   shared/proto/secrethost/provider/v1/provider.proto   (the protocol)
#   proto/goplugin/grpc_controller.proto, grpc_stdio.proto (go-plugin v1.8.0)
#   proto/goplugin/health.proto                           (grpc.health.v1)
# with Debian's protoc (protobuf-compiler) and grpc_python_plugin
# (protobuf-compiler-grpc), installed on demand. `make proto-python` runs it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if ! command -v protoc >/dev/null || ! command -v grpc_python_plugin >/dev/null; then
	apt-get update -qq
	apt-get install -y -qq protobuf-compiler protobuf-compiler-grpc
fi
plugin=$(command -v grpc_python_plugin)
out="$here/src"
rm -rf "$out/secrethost" "$out/goplugin"
protoc -I "$root/shared/proto" -I "$here/proto" -I /usr/include \
	--python_out="$out" --grpc_python_out="$out" --plugin=protoc-gen-grpc_python="$plugin" \
	secrethost/provider/v1/provider.proto \
	goplugin/grpc_controller.proto goplugin/grpc_stdio.proto goplugin/health.proto
# Regular packages, not namespace packages, so that imports also work from
# the zip archive the plugin is shipped as.
for d in secrethost secrethost/provider secrethost/provider/v1 goplugin; do
	: >"$out/$d/__init__.py"
done
