// swift-tools-version: 6.1
// Ferry: a CSI sidecar that provisions PersistentVolumeClaims from cross-namespace
// sources and Kopia repositories. Module map: ARCHITECTURE.md §4 (docs/ in ../shared).
import PackageDescription

/// Settings every Swift target shares (STYLE.md rule 8).
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "ferry",
        products: [
        .executable(name: "ferry", targets: ["ferry"]),
        .library(name: "Kopia", targets: ["Kopia"]),
        .library(name: "CSI", targets: ["CSI"]),
        .library(name: "Kube", targets: ["Kube"]),
        .library(name: "FerryControllers", targets: ["FerryControllers"]),
        .executable(name: "ferry-localcluster", targets: ["ferry-localcluster"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // MARK: C system libraries (each with a prefixed shim header; never in products)
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // grpc deliberately without pkgConfig: its .pc chain overflows the linker command line (grpc-c.md §3.1).
        .systemLibrary(name: "CGRPC", providers: [.apt(["libgrpc-dev"])]),
        .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c", providers: [.apt(["libprotobuf-c-dev"])]),
        // protoc-c output for proto/csi.proto, committed; regenerate with scripts/gen-proto.sh.
        .target(name: "CCSIProto", dependencies: ["CProtobufC"]),

        // MARK: Vocabulary below every Swift module: retry classes, clamped durations, clocks, lifecycle
        .target(name: "FerryCore", swiftSettings: swiftSettings),

        // MARK: Shared HTTP transport (libcurl) used by Kube and by Kopia's S3 backend
        .target(
            name: "CurlHTTP",
            dependencies: ["FerryCore", "CCurl", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),

        // MARK: Kopia engine (Storage/ Format/ Codecs/ Content/ Objects/ Snapshots/ Restore/ Write/)
        .target(
            name: "Kopia",
            dependencies: [
                "FerryCore", "COpenSSL", "CZstd", "CZlib", "CLZ4", "CurlHTTP",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        // MARK: gRPC transport (knows nothing of CSI) and the CSI layer
        .target(
            name: "GRPCTransport",
            dependencies: ["FerryCore", "CGRPC", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .target(
            name: "CSI",
            dependencies: ["FerryCore", "GRPCTransport", "CCSIProto", "CProtobufC", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),

        // MARK: Kubernetes API client
        .target(
            name: "Kube",
            dependencies: ["FerryCore", "CurlHTTP", .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings),

        // MARK: Controllers: grants, sources, CSI provisioning, Kopia populating (Kube, CSI and Kopia meet here)
        .target(
            name: "FerryControllers",
            dependencies: ["Kube", "CSI", "Kopia", "CurlHTTP", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),

        // MARK: The local control plane (API server + simulated cluster components); never imported by the product
        .target(name: "CLocalTLS", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .target(name: "LocalHTTPS", dependencies: ["CLocalTLS"], swiftSettings: swiftSettings),
        .target(
            name: "LocalCluster",
            dependencies: ["Kube", "CSI", "GRPCTransport", "LocalHTTPS", "CurlHTTP", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "ferry-localcluster",
            dependencies: [
                "LocalCluster",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        // MARK: The one binary
        .executableTarget(
            name: "ferry",
            dependencies: [
                "FerryCore", "Kopia", "CSI", "Kube", "FerryControllers", "CurlHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        // MARK: Benchmarks (Benchmarks/bench-*.sh; not products)
        .executableTarget(
            name: "kopia-index-bench",
            dependencies: ["Kopia", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/KopiaIndexBench",
            swiftSettings: swiftSettings),
        // libFuzzer harnesses over the parsers of outside bytes; Benchmarks/Fuzz/fuzz.sh builds them with
        // -DFUZZING, ASan and coverage into .build-fuzz (a normal build only replays files).
        .executableTarget(
            name: "ferry-fuzz",
            dependencies: ["Kopia", "Kube", "CurlHTTP"],
            path: "Benchmarks/Fuzz",
            exclude: ["fuzz.sh"],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "kopia-codec-bench",
            dependencies: ["Kopia"],
            path: "Benchmarks/KopiaCodecBench",
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "grpc-roundtrip-bench",
            dependencies: ["CSI", "GRPCTransport", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/GRPCRoundTrip",
            exclude: ["grpcio_bench.py"],
            swiftSettings: swiftSettings),

        .executableTarget(
            name: "controller-bench",
            dependencies: ["FerryControllers", "Kube", "CSI", "CurlHTTP", "KubeTestSupport", "CSITestSupport", "HTTPTestSupport",
                           .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/ControllerBench",
            swiftSettings: swiftSettings),

        .executableTarget(
            name: "local-apiserver-bench",
            dependencies: ["LocalCluster", "LocalHTTPS", "Kube", "CurlHTTP", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/LocalAPIServerBench",
            swiftSettings: swiftSettings),

        // MARK: Test support (non-product)
        .target(name: "FerryTestSupport", dependencies: ["FerryCore"], path: "Tests/Support/FerryTestSupport",
                swiftSettings: swiftSettings),
        .target(name: "KopiaTestSupport", dependencies: ["Kopia", "CurlHTTP"], path: "Tests/Support/KopiaTestSupport",
                exclude: ["Scripts"], swiftSettings: swiftSettings),
        .target(name: "CSITestSupport", dependencies: ["CSI", "GRPCTransport", .product(name: "Logging", package: "swift-log")], path: "Tests/Support/CSITestSupport",
                swiftSettings: swiftSettings),
        .target(name: "HTTPTestSupport", dependencies: ["LocalHTTPS"], path: "Tests/Support/HTTPTestSupport",
                swiftSettings: swiftSettings),
        .target(name: "KubeTestSupport", dependencies: ["Kube", "HTTPTestSupport", "LocalCluster"],
                path: "Tests/Support/KubeTestSupport", swiftSettings: swiftSettings),
        // The end-to-end harness: local control plane, Ferry's CRDs, `ferry controller` processes, kubectl, waits.
        .target(name: "E2ETestSupport", dependencies: ["LocalCluster", "Kube", .product(name: "Logging", package: "swift-log")],
                path: "Tests/Support/E2ETestSupport", swiftSettings: swiftSettings),

        // MARK: Tests
        .testTarget(name: "FerryCoreTests", dependencies: ["FerryCore", "FerryTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "KopiaTests", dependencies: ["Kopia", "KopiaTestSupport", "CurlHTTP"], swiftSettings: swiftSettings),
        .testTarget(name: "CurlHTTPTests", dependencies: ["CurlHTTP", "HTTPTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "GRPCTransportTests",
            dependencies: ["GRPCTransport", "FerryTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CSITests",
            dependencies: ["CSI", "CSITestSupport", "GRPCTransport", .product(name: "Logging", package: "swift-log")],
            exclude: ["Scripts"],
            swiftSettings: swiftSettings),
        .testTarget(name: "KubeTests", dependencies: ["Kube", "KubeTestSupport", "CurlHTTP", "HTTPTestSupport", "FerryTestSupport"],
                    swiftSettings: swiftSettings),
        .target(name: "ControllerTestSupport", dependencies: ["FerryControllers", "Kube", "CSI", "GRPCTransport"],
                path: "Tests/Support/ControllerTestSupport", swiftSettings: swiftSettings),
        .testTarget(
            name: "LifecycleStressTests",
            dependencies: ["GRPCTransport", "CurlHTTP", "Kube", "KubeTestSupport", "HTTPTestSupport", "FerryTestSupport",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "FerryControllersTests",
            dependencies: ["FerryControllers", "Kube", "CSI", "Kopia", "KopiaTestSupport", "GRPCTransport",
                           "ControllerTestSupport", "KubeTestSupport", "CSITestSupport", "HTTPTestSupport",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "LocalClusterTests",
            dependencies: ["LocalCluster", "Kube", "CSI", "GRPCTransport", "KubeTestSupport", "HTTPTestSupport", "E2ETestSupport", "CurlHTTP", .product(name: "Logging", package: "swift-log")],
            exclude: ["Scripts"],
            swiftSettings: swiftSettings),
        // End to end on the local control plane (API server, simulated components, Ferry's controllers in-process).
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["FerryControllers", "LocalCluster", "Kube", "Kopia", "KopiaTestSupport", "KubeTestSupport", "E2ETestSupport", "GRPCTransport",
                           "CurlHTTP", .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams")],
            exclude: ["Scripts"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "FerryCLITests",
            dependencies: ["ferry", "KopiaTestSupport"],
            swiftSettings: swiftSettings),
    ]
)
