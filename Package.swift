// swift-tools-version: 6.1
import PackageDescription

// Swift 6 language mode (the default for tools 6.x) with strict concurrency everywhere.
let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "wardgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wardgate", targets: ["wardgate"]),
        // For the micro-benchmarks in Benchmarks/ (a package of its own, which CI never builds).
        .library(name: "WardgateHotPath", targets: ["JSONDocument", "Observations", "DeviceProfiles", "DeviceIdentity"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        // The staff HTTP API (issue #7). No default traits: swift-configuration is not needed.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        // Hummingbird's own lifecycle dependency, named so the API server can shut down gracefully.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // The Hyperledger Fabric Gateway client (issue #14): gRPC over HTTP/2, protobuf messages.
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0", traits: []),
    ],
    targets: [
        // libmosquitto through pkg-config (Debian: libmosquitto-dev).
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),
        .target(name: "Nomenclature", swiftSettings: strict),
        .target(name: "CivilTime", swiftSettings: strict),
        .target(name: "JSONDocument", swiftSettings: strict),
        .target(name: "HexEncoding", swiftSettings: strict),
        .target(name: "Timing", swiftSettings: strict),
        .target(
            name: "SigningKeys",
            dependencies: ["HexEncoding", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "StrictYAML",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .target(
            name: "Observations",
            dependencies: [
                "Nomenclature", "JSONDocument", "CivilTime", "HexEncoding",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "DeviceProfiles",
            dependencies: ["Observations", "Nomenclature", "JSONDocument", "StrictYAML"],
            swiftSettings: strict
        ),
        .target(
            name: "IEEE11073",
            dependencies: [
                "Nomenclature", "Observations", "CivilTime", "HexEncoding", "Timing",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "DeviceIdentity",
            dependencies: [
                "JSONDocument", "CivilTime", "HexEncoding", "SigningKeys",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TransparencyLog",
            dependencies: [
                "HexEncoding",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "MQTTIngest",
            dependencies: ["CMosquitto", "Timing", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "Journal",
            dependencies: [
                "Observations", "JSONDocument", "HexEncoding",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Processing",
            dependencies: [
                "Journal", "DeviceProfiles", "IEEE11073", "Observations", "DeviceIdentity", "JSONDocument", "MQTTIngest", "StrictYAML", "Timing",
                "HexEncoding",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Transparency",
            dependencies: [
                "Processing", "Journal", "TransparencyLog", "JSONDocument", "SigningKeys",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Ledger",
            dependencies: [
                "Journal", "Transparency", "TransparencyLog", "JSONDocument", "Timing",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Ledger/Core",
            swiftSettings: strict
        ),
        .target(
            name: "EmbeddedLedger",
            dependencies: [
                "Ledger", "Journal", "TransparencyLog", "SigningKeys", "JSONDocument", "HexEncoding",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Ledger/Embedded",
            swiftSettings: strict
        ),
        // Generated by scripts/generate-fabric-protos (never in CI); see its README.md.
        .target(
            name: "FabricProtos",
            dependencies: [
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            ],
            path: "Sources/Ledger/FabricProtos",
            exclude: ["README.md"]
        ),
        .target(
            name: "FabricLedger",
            dependencies: [
                "FabricProtos", "Ledger", "TransparencyLog", "DeviceIdentity", "SigningKeys", "JSONDocument", "HexEncoding",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Ledger/Fabric",
            exclude: ["chaincode"],
            swiftSettings: strict
        ),
        .target(
            name: "Evidence",
            dependencies: [
                "Journal", "Transparency", "Ledger", "EmbeddedLedger", "FabricLedger", "DeviceIdentity", "TransparencyLog", "JSONDocument", "HexEncoding",
                "Observations",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "StaffAPI",
            dependencies: [
                "Journal", "JSONDocument", "Observations", "Timing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Gateway",
            dependencies: [
                "MQTTIngest", "DeviceProfiles", "Observations", "Journal", "StrictYAML",
                "JSONDocument", "DeviceIdentity", "IEEE11073", "StaffAPI", "TransparencyLog", "Ledger", "EmbeddedLedger", "FabricLedger", "HexEncoding", "Timing", "SigningKeys",
                "Processing", "Transparency", "Evidence",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "wardgate",
            dependencies: [
                "Gateway", "WardgateTools", "DeviceProfiles", "Observations", "Journal", "DeviceIdentity", "IEEE11073", "TransparencyLog",
                "JSONDocument", "Ledger", "EmbeddedLedger", "FabricLedger", "HexEncoding", "Processing", "Evidence", "Transparency", "StrictYAML", "Timing",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Out of the product: the tests and the CLI's bench, demo and fuzz tools link these; no
        // library the daemon runs does.
        .target(
            name: "Simulation",
            dependencies: ["MQTTIngest", "JSONDocument", "IEEE11073", "Observations", "Timing", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Tools/Simulation",
            swiftSettings: strict
        ),
        .target(
            name: "WardgateTestSupport",
            dependencies: [
                "Ledger", "HexEncoding", "Processing",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Sources/Tools/TestSupport",
            exclude: ["Fabric/fabric_test_peer.py"],
            swiftSettings: strict
        ),
        .target(
            name: "WardgateTools",
            dependencies: [
                "Gateway", "Simulation", "WardgateTestSupport", "Journal", "Ledger", "EmbeddedLedger", "FabricLedger", "DeviceIdentity", "IEEE11073",
                "MQTTIngest", "Observations", "Transparency",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Tools/WardgateTools",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ieee11073-fuzz",
            dependencies: ["WardgateTools", "IEEE11073"],
            path: "Fuzz/IEEE11073Fuzz",
            swiftSettings: strict
        ),

        .testTarget(name: "NomenclatureTests", dependencies: ["Nomenclature"], swiftSettings: strict),
        .testTarget(name: "JSONDocumentTests", dependencies: ["JSONDocument", "WardgateTestSupport", "Simulation"], swiftSettings: strict),
        .testTarget(name: "HexEncodingTests", dependencies: ["HexEncoding"], swiftSettings: strict),
        .testTarget(
            name: "SigningKeysTests",
            dependencies: ["SigningKeys", "WardgateTestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .testTarget(name: "TimingTests", dependencies: ["Timing", "Simulation"], swiftSettings: strict),
        .testTarget(
            name: "DeviceProfilesTests",
            dependencies: ["WardgateTestSupport", "DeviceProfiles", "Observations", "JSONDocument", "Nomenclature", "StrictYAML", "Simulation"],
            exclude: ["Resources"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "JournalTests",
            dependencies: ["Journal", "Observations", "JSONDocument", "HexEncoding", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "IEEE11073Tests",
            dependencies: ["IEEE11073", "Observations", "Nomenclature", "Simulation", "WardgateTools"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TransparencyLogTests",
            dependencies: [
                "WardgateTestSupport", "Simulation",
                "TransparencyLog", "HexEncoding",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Resources"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DeviceIdentityTests",
            dependencies: [
                "WardgateTestSupport",
                "DeviceIdentity", "JSONDocument", "HexEncoding", "SigningKeys",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MQTTIngestTests",
            dependencies: ["WardgateTestSupport", "MQTTIngest", "Simulation", "Timing", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "WardgateTestSupport", "WardgateTools",
                "Gateway", "MQTTIngest", "Simulation", "Journal", "JSONDocument", "DeviceProfiles", "Observations",
                "DeviceIdentity", "IEEE11073", "TransparencyLog", "Ledger", "EmbeddedLedger", "FabricLedger", "Timing", "Processing", "Transparency", "Evidence",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Resources"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ProcessingTests",
            dependencies: [
                "Processing", "Journal", "DeviceProfiles", "IEEE11073", "Simulation", "WardgateTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "LedgerTests",
            dependencies: [
                "Ledger", "EmbeddedLedger", "Journal", "Transparency", "Processing", "TransparencyLog", "JSONDocument",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FabricLedgerTests",
            dependencies: [
                "FabricLedger", "WardgateTestSupport", "FabricProtos", "Ledger", "TransparencyLog", "DeviceIdentity", "SigningKeys", "JSONDocument", "HexEncoding",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Resources"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StaffAPITests",
            dependencies: [
                "WardgateTestSupport",
                "StaffAPI", "Journal", "JSONDocument",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Resources"],
            swiftSettings: strict
        ),
    ]
)
