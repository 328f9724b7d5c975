// Package onepasswordsa holds the end-to-end tests of the 1Password
// service-account plugin: the real plugin binary, with the real SDK inside
// (built once per test process by e2e/internal/harness), through the real
// host (package host) and the real secrethost CLI. Nothing here can reach
// 1Password: they cover Configure rejecting a malformed token with the
// SDK's reason as the host reports it, Validate offline (no SDK core, no
// socket but unix ones), the host's proxy reaching the SDK's sign-in, that
// the SDK's WebAssembly runtime is linked into the plugin and never into
// the host (linkage_test.go), and BenchmarkValidate100, which scripts/bench
// runs. The plugin's own tests, those of its binary through shared/launch
// included, stay in plugins/onepassword-sa/serviceaccount.
package onepasswordsa
