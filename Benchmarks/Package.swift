// swift-tools-version: 6.1
// Micro-benchmarks of the hot path's pieces (time and mallocs per operation) with
// ordo-one/benchmark, and a synchronous workload for `valgrind --tool=callgrind` (instruction
// counts). A package of its own: CI never builds it. See docs/BENCHMARKS.md, "Micro-benchmarks".
//
//   cd Benchmarks && swift package benchmark --target HotPath
//   swift build -c release --product hotpath-workload && valgrind --tool=callgrind .build/release/hotpath-workload
import PackageDescription

let package = Package(
    name: "WardgateBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "wardgate", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(
            name: "HotPathFixtures",
            dependencies: [.product(name: "WardgateHotPath", package: "wardgate")],
            path: "Sources/HotPathFixtures"
        ),
        .executableTarget(
            name: "HotPath",
            dependencies: [
                "HotPathFixtures",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "WardgateHotPath", package: "wardgate"),
            ],
            path: "Benchmarks/HotPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "hotpath-workload",
            dependencies: ["HotPathFixtures", .product(name: "WardgateHotPath", package: "wardgate")],
            path: "Sources/HotPathWorkload"
        ),
    ]
)
