// swift-tools-version: 6.2
import PackageDescription

#if os(Linux)
    import Glibc
#endif

/// Whether this machine's C library is glibc 2.36 or newer, which loads packed relative relocations: a binary
/// linked with them does not start on an older one.
let loaderReadsPackedRelocations: Bool = {
    #if os(Linux)
        var buffer = [CChar](repeating: 0, count: 64)
        guard confstr(Int32(_CS_GNU_LIBC_VERSION), &buffer, buffer.count) > 0 else { return false }
        // "glibc 2.36"
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let version = text.split(separator: " ").last ?? ""
        let parts = version.split(separator: ".").compactMap { Int($0) }
        return parts.count >= 2 && (parts[0], parts[1]) >= (2, 36)
    #else
        return false
    #endif
}()

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Wherry",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wherry", targets: ["wherry"]),
        .executable(name: "wherry-bench-apply", targets: ["wherry-bench-apply"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.30.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // Pure values: objects, references, labels. No I/O.
        .target(
            name: "WherryModel", dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
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
        // Kubernetes access: kubeconfig, the native HTTP client, discovery and server-side apply.
        .target(
            name: "WherryKube",
            dependencies: [
                "WherryModel",
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "WherryController",
            dependencies: [
                "WherryModel", "WherryGit", "WherryRender", "WherryKube",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // The controller's HTTP server: status API, manual sync, health, the event stream and the dashboard (its
        // mustache templates, script and style are resources: no Node build, no CDN).
        .target(
            name: "WherryHTTP",
            dependencies: [
                "WherryModel", "WherryGit", "WherryController",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("Dashboard/Templates"), .copy("Dashboard/Assets")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "wherry",
            dependencies: [
                "WherryModel", "WherryGit", "WherryRender", "WherryKube", "WherryController", "WherryHTTP",
                "CWherryHeap",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict,
            // Release links with lld and exports no symbol to the dynamic loader (the static Swift runtime's link
            // arguments export all 49k of them, for nothing: no plugin loads against the binary); where the C
            // library loads them (glibc 2.36+), relative relocations are packed (DT_RELR). A start then reads
            // 50 KB of relocations instead of 3.4 MB, and 3 to 5 MB less is resident.
            // The code a running controller executes (the functions in Linker/hot-functions.txt, measured by
            // scripts/profile-hot-code.sh) is laid out together at the start of the text, so what it runs is not
            // spread over the whole 32 MB with cold code faulted in around it: 8.7 MB less is resident. The unit laid
            // out is an object's code section, so a hot function brings the rest of its source file along.
            linkerSettings: [
                .unsafeFlags(
                    [
                        "-use-ld=lld", "-Xlinker", "--no-export-dynamic",
                        "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Linker/hot-functions.txt",
                        "-Xlinker", "--no-warn-symbol-ordering",
                    ]
                        + (loaderReadsPackedRelocations ? ["-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"] : []),
                    .when(platforms: [.linux], configuration: .release))
            ]
        ),
        // The C allocator's figures and trim (glibc's malloc.h is not in Swift's Glibc module).
        .target(name: "CWherryHeap"),
        // Test kit: git repository fixtures and a git smart-HTTP server on 127.0.0.1.
        .target(
            name: "WherryTesting",
            dependencies: [
                "WherryExec", "WherryModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Benchmarks, run on purpose:
        // `swift build -c release --product wherry-fake-apiserver && swift run -c release wherry-bench-apply [N]`.
        .executableTarget(
            name: "wherry-bench-apply",
            dependencies: ["WherryKube", "WherryModel", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/ApplyBenchmark",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "wherry-fake-apiserver",
            dependencies: ["WherryTesting"],
            path: "Benchmarks/FakeAPIServerMain",
            swiftSettings: strict
        ),
        .testTarget(name: "WherryModelTests", dependencies: ["WherryModel", "WherryRender"], swiftSettings: strict),
        .testTarget(
            name: "WherryGitTests",
            dependencies: ["WherryGit", "WherryTesting"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WherryRenderTests",
            dependencies: ["WherryRender", "WherryTesting"],
            // Golden files are read from the source tree (#filePath), not bundled.
            exclude: ["Golden"],
            swiftSettings: strict
        ),
        // Apply scenarios shared by the FakeAPIServer tests and the real-cluster E2E tests.
        .target(
            name: "WherryScenarios",
            dependencies: [
                "WherryKube", "WherryModel", "WherryController", "WherryGit", "WherryTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Scenarios",
            swiftSettings: strict
        ),
        .testTarget(
            name: "WherryKubeTests",
            dependencies: ["WherryKube", "WherryModel", "WherryTesting", "WherryScenarios"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "E2ETests",
            dependencies: [
                "WherryKube", "WherryScenarios", "WherryController", "WherryTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WherryControllerTests",
            dependencies: [
                "WherryController", "WherryRender", "WherryTesting", "WherryScenarios",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                // Only to turn a state database back into what an older Wherry wrote (migration tests).
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WherryHTTPTests",
            dependencies: [
                "WherryHTTP", "WherryController", "WherryRender", "WherryTesting",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WherryCLITests",
            dependencies: [
                "wherry", "WherryTesting",
                // The dashboard's browser tests drive chromium over WebDriver's HTTP protocol.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            exclude: ["Golden"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WherryTestingTests",
            dependencies: ["WherryTesting", "WherryModel", "WherryExec"],
            swiftSettings: strict
        ),
    ]
)
