// swift-tools-version:6.0
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
    ],
    targets: [
        // The jq C library (Debian: libjq-dev). Debian ships no pkg-config file for libjq 1.6.
        .systemLibrary(
            name: "CJQ",
            path: "Sources/CJQ",
            providers: [.apt(["libjq-dev"]), .brew(["jq"])]
        ),
        // The Redis C client (Debian: libhiredis-dev, which ships a static libhiredis.a, so the main binary stays
        // fully static). Only `redisCommandArgv` is used: `redisCommand` is C-variadic.
        .systemLibrary(
            name: "CHiredis",
            path: "Sources/CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"]), .brew(["hiredis"])]
        ),
        // GNU-only libc calls that Swift's Glibc module does not expose.
        .target(name: "CSys", path: "Sources/CSys"),
        // All the logic: store, identity, messages, delivery, hooks. No libjq here (see JQ).
        .target(name: "SessionBridge", dependencies: ["CSys", "CHiredis"]),
        // Thin command-line front end, also the hook entry point. The release build links it fully statically
        // (scripts/build): it then starts in about a millisecond, which every hook call needs. libjq exists only
        // as a shared library on Debian, so jq programs run in the session-bridge-jq helper below, started only
        // when a --filter is given.
        .executableTarget(
            name: "session-bridge",
            dependencies: [
                "SessionBridge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // A safe wrapper over libjq: compile once, run on many inputs.
        .target(name: "JQ", dependencies: ["CJQ"]),
        // The jq helper: one compiled program, one JSON document per line in, one verdict per line out.
        .executableTarget(name: "session-bridge-jq", dependencies: ["JQ", "CProcessLimits"]),
        // The helper's own bounds: memory caps and dying with its parent (a module of its own, so the helper and the
        // static main binary still share none and neither build invalidates the other).
        .target(name: "CProcessLimits", path: "Sources/CProcessLimits"),
        // Depends on the executables so multi-process tests can run the real binaries.
        .testTarget(name: "SessionBridgeTests", dependencies: ["SessionBridge", "JQ", "session-bridge", "session-bridge-jq",
                                                          .product(name: "Yams", package: "Yams")],
                    exclude: ["Fixtures"]),
    ]
)
