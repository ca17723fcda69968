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
        // All the logic: store, identity, messages, delivery, hooks.
        .target(name: "SessionBridge", dependencies: ["CJQ", "CSys"]),
        // Thin command-line front end.
        .executableTarget(
            name: "session-bridge",
            dependencies: [
                "SessionBridge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Depends on the executable so multi-process tests can run the real binary.
        .testTarget(name: "SessionBridgeTests", dependencies: ["SessionBridge", "session-bridge"]),
    ]
)
