// swift-tools-version:6.0
import PackageDescription

// The fuzzers: a separate package, so the main build and the hot binary never see libFuzzer. Built only by
// scripts/fuzz (with -sanitize=fuzzer,address into .build-fuzz). The harness (Harness/) holds one adapter per
// entry point and the properties checked on every input; the main test target replays the saved inputs through
// the same files (Tests/SessionBridgeTests/FuzzHarness is a link to Harness/).
let package = Package(
    name: "session-bridge-fuzz",
    dependencies: [.package(name: "session-bridge", path: "..")],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver, which lets our own main pick the target.
        .target(name: "CFuzzDriver", path: "Sources/CFuzzDriver"),
        .target(name: "FuzzHarness", dependencies: [.product(name: "SessionBridge", package: "session-bridge")], path: "Harness"),
        .executableTarget(name: "session-bridge-fuzz", dependencies: ["FuzzHarness", "CFuzzDriver"]),
    ]
)
