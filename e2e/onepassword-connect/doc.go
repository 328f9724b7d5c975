// Package onepasswordconnect holds the end-to-end tests of the 1Password
// Connect plugin: the real host (package host) and, for some tests, the
// real secrethost CLI launch the real plugin binary (built once per test
// process by e2e/internal/harness), which talks HTTP to the Connect
// emulator (plugins/onepassword-connect/emulator) running in the test
// process, seeded with emulator/fixture. Besides resolution they cover
// faults (faults_test.go), load (load_test.go), proxies and private CAs
// (network_e2e_test.go), the warm path (warm_e2e_test.go), parity with
// the service-account plugin (parity_e2e_test.go), cancellation and the
// benchmarks scripts/bench runs (bench_test.go). The plugin's own tests,
// conformance included, stay in plugins/onepassword-connect.
package onepasswordconnect
