// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Wherry",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wherry", targets: ["wherry"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    ],
    targets: [
        // Pure values: objects, references, labels. No I/O.
        .target(name: "WherryModel", swiftSettings: strict),
        // Running external programs (git, kubectl) with timeouts, output limits and redaction.
        .target(
            name: "WherryExec",
            dependencies: [.product(name: "Subprocess", package: "swift-subprocess")],
            swiftSettings: strict
        ),
        .target(
            name: "WherryGit",
            dependencies: ["WherryModel", "WherryExec", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "WherryRender",
            dependencies: ["WherryModel", "WherryExec", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .target(
            name: "WherryController",
            dependencies: [
                "WherryModel", "WherryGit", "WherryRender",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "wherry",
            dependencies: [
                "WherryModel", "WherryGit", "WherryRender", "WherryController",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Test kit: git repository fixtures and a git smart-HTTP server on 127.0.0.1.
        .target(
            name: "WherryTesting",
            dependencies: [
                "WherryExec",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "WherryModelTests", dependencies: ["WherryModel"], swiftSettings: strict),
        .testTarget(
            name: "WherryGitTests",
            dependencies: ["WherryGit", "WherryTesting"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WherryRenderTests",
            dependencies: ["WherryRender", "WherryTesting"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WherryControllerTests",
            dependencies: ["WherryController", "WherryTesting"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WherryCLITests",
            dependencies: ["wherry", "WherryTesting"],
            swiftSettings: strict
        ),
    ]
)
