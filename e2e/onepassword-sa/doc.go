// Package onepasswordsa holds the end-to-end tests of the 1Password
// service-account plugin: the real plugin binary, with the real SDK inside
// (built once per test process by e2e/internal/harness), started through
// shared/launch, through the real host (package host) and through the real
// secrethost CLI. Nothing here can reach 1Password: they cover start-up,
// Configure rejecting a malformed token with the SDK's reason, Validate
// offline, the host's proxy reaching the SDK's sign-in, that the SDK's
// WebAssembly runtime is linked into the plugin and never into the host
// (linkage_test.go), and the benchmarks scripts/bench runs. The plugin's
// own tests stay in plugins/onepassword-sa.
package onepasswordsa
