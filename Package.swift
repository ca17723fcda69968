// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "session-bridge",
    products: [
        .executable(name: "session-bridge", targets: ["session-bridge"]),
        .library(name: "SessionBridge", targets: ["SessionBridge"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Tests only: libyaml is the reference the strict config parser is checked against.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The dashboard's HTTP server (session-bridge-ui only; the main binary never links it). No traits: the
        // dashboard needs neither swift-configuration nor full Foundation.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The jq C library (Debian: libjq-dev). Debian ships no pkg-config file for libjq 1.6.
        .systemLibrary(
            name: "CJQ",
            path: "Sources/CJQ",
            providers: [.apt(["libjq-dev"]), .brew(["jq"])]
        ),
        // GNU-only libc calls that Swift's Glibc module does not expose.
        .target(name: "CSys", path: "Sources/CSys"),
        // All the logic: store, identity, messages, delivery, hooks. No libjq here (see JQ).
        .target(name: "SessionBridge", dependencies: ["CSys"]),
        // The command line (commands, the fast path, output), a library so tests can parse and run it in process.
        .target(
            name: "SessionBridgeCLI",
            dependencies: [
                "SessionBridge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The executable: one call into SessionBridgeCLI; also the hook entry point. The release build links it fully
        // statically (scripts/build): it then starts in about a millisecond, which every hook call needs. libjq exists
        // only as a shared library on Debian, so jq programs run in the session-bridge-jq helper below, started only
        // when a --filter is given.
        .executableTarget(name: "session-bridge", dependencies: ["SessionBridgeCLI"]),
        // A safe wrapper over libjq: compile once, run on many inputs.
        .target(name: "JQ", dependencies: ["CJQ"]),
        // The jq helper: one compiled program, one JSON document per line in, one verdict per line out.
        .executableTarget(name: "session-bridge-jq", dependencies: ["JQ", "CProcessLimits"]),
        // The helper's own bounds: memory caps and dying with its parent (a module of its own, so the helper and the
        // static main binary still share none and neither build invalidates the other).
        .target(name: "CProcessLimits", path: "Sources/CProcessLimits"),
        // Depends on the executables so multi-process tests can run the real binaries.
        // The dashboard's pages: a snapshot of the store read through the library, rendered to HTML. No server here,
        // so tests and the benchmark render pages without NIO.
        .target(name: "Dashboard", dependencies: ["SessionBridge"]),
        // The dashboard server (`session-bridge ui` starts it): loopback only, token-checked, live through SSE.
        .executableTarget(
            name: "session-bridge-ui",
            dependencies: ["Dashboard", "SessionBridge", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "SessionBridgeTests", dependencies: ["SessionBridge", "SessionBridgeCLI", "JQ", "Dashboard", "session-bridge", "session-bridge-jq",
                                                          .product(name: "Yams", package: "Yams")],
                    exclude: ["Fixtures"]),
    ]
)
