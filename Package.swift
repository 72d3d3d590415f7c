// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-tune",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "TuneRandom", targets: ["TuneRandom"]),
        .library(name: "TuneTensor", targets: ["TuneTensor"]),
        .library(name: "TuneNN", targets: ["TuneNN"]),
        .library(name: "TuneData", targets: ["TuneData"]),
        .library(name: "TuneTraining", targets: ["TuneTraining"]),
        .library(name: "TuneDiagnosis", targets: ["TuneDiagnosis"]),
        .library(name: "TuneSearch", targets: ["TuneSearch"]),
        .library(name: "TuneExport", targets: ["TuneExport"]),
        .library(name: "TuneReport", targets: ["TuneReport"]),
        .library(name: "TuneRun", targets: ["TuneRun"]),
        .library(name: "TuneEngine", targets: ["TuneEngine"]),
        .library(name: "Tune", targets: ["Tune"]),
        .library(name: "TunePostgres", targets: ["TunePostgres"]),
        .executable(name: "tune", targets: ["tune"]),
        .executable(name: "tune-bench", targets: ["TuneBench"]),
        .executable(name: "tune-storage-bench", targets: ["TuneStorageBench"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // Studies on PostgreSQL (TunePostgres only).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // `swift package generate-documentation`: the DocC catalogs of the library modules.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0")
    ],
    targets: [
        // From the bottom up; a module depends only on modules above it in this list (ModuleGraphTests holds it).
        .target(name: "CTuneKernels"),
        .target(name: "TuneRandom", dependencies: ["CTuneKernels"]),
        .target(
            name: "TuneTensor",
            dependencies: ["CTuneKernels", "TuneRandom"],
            linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]
        ),
        .target(name: "TuneNN", dependencies: ["TuneTensor", "TuneRandom", "CTuneKernels"]),
        .target(name: "TuneDiagnosis"),
        .target(name: "TuneData", dependencies: ["TuneTensor", "TuneRandom", "TuneDiagnosis", "CTuneKernels"]),
        .target(name: "TuneTraining", dependencies: ["TuneTensor", "TuneRandom", "TuneNN", "TuneData"]),
        .target(name: "TuneSearch", dependencies: ["TuneRandom", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(
            name: "TuneExport",
            dependencies: ["TuneDiagnosis", "TuneData", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Generated/README.md"]),
        .target(name: "TuneReport", dependencies: ["TuneDiagnosis", "TuneData", "TuneTraining", "TuneSearch"]),
        .target(
            name: "TuneRun",
            dependencies: [
                "TuneRandom", "TuneTensor", "TuneNN", "TuneData", "TuneTraining", "TuneDiagnosis", "TuneExport",
                "TuneSearch", "TuneReport", .product(name: "Yams", package: "Yams")
            ]),
        .target(
            name: "TuneEngine",
            dependencies: [
                "TuneRandom", "TuneTensor", "TuneNN", "TuneData", "TuneTraining", "TuneDiagnosis", "TuneExport",
                "TuneSearch", "TuneReport", "TuneRun", .product(name: "Yams", package: "Yams")
            ]),
        // Studies on PostgreSQL (issue 15), a product of its own so that the default build stays light.
        .target(
            name: "TunePostgres",
            dependencies: [
                "TuneSearch", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "Logging", package: "swift-log")
            ]),
        // The umbrella: `import Tune` gives every library module.
        .target(
            name: "Tune",
            dependencies: [
                "TuneRandom", "TuneTensor", "TuneNN", "TuneData", "TuneTraining", "TuneDiagnosis", "TuneExport",
                "TuneSearch", "TuneReport", "TuneRun", "TuneEngine"
            ]),
        .executableTarget(
            name: "tune",
            dependencies: ["Tune", "TunePostgres", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "TuneBench",
            dependencies: ["TuneRandom", "TuneTensor", "TuneNN", "TuneData", "TuneTraining"],
            path: "bench/Sources/TuneBench"
        ),
        .executableTarget(
            name: "TuneStorageBench", dependencies: ["TuneSearch", "TunePostgres"],
            path: "bench/Sources/TuneStorageBench"),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TuneTensorTests", dependencies: ["TuneTensor", "TuneRandom"]),
        .testTarget(
            name: "TuneNNTests", dependencies: ["TestSupport", "TuneNN", "TuneTensor", "TuneRandom", "TuneData"],
            exclude: ["Fixtures"]),
        .testTarget(name: "TuneDataTests", dependencies: ["TuneData", "TuneTensor", "TuneRandom", "TuneDiagnosis"]),
        .testTarget(
            name: "TuneTrainingTests", dependencies: ["TuneTraining", "TuneData", "TuneNN", "TuneTensor", "TuneRandom"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "TuneSearchTests",
            dependencies: [
                "TestSupport", "TuneSearch", "TunePostgres", .product(name: "GRDB", package: "GRDB.swift")
            ]),
        .testTarget(name: "TuneDiagnosisTests", dependencies: ["TestSupport", "TuneDiagnosis"]),
        .testTarget(name: "TunePostgresTests", dependencies: ["TestSupport", "TunePostgres", "TuneSearch"]),
        .testTarget(
            name: "TuneReportTests",
            dependencies: ["TestSupport", "TuneReport", "TuneDiagnosis", "TuneSearch", "TuneTraining"]),
        .testTarget(
            name: "TuneExportTests", dependencies: ["TestSupport", "TuneExport", "TuneDiagnosis", "TuneData"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "TuneTests",
            dependencies: [
                "TestSupport", "Tune", "TuneRandom", "TuneTensor", "TuneData", "TuneTraining", "TuneDiagnosis",
                "TuneExport", "TuneSearch", "TuneReport", "TuneRun", "TuneEngine"
            ])
    ],
    swiftLanguageModes: [.v6]
)
