// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-tune",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "TuneTensor", targets: ["TuneTensor"]),
        .library(name: "TuneNN", targets: ["TuneNN"]),
        .library(name: "TuneData", targets: ["TuneData"]),
        .library(name: "TuneTraining", targets: ["TuneTraining"]),
        .library(name: "TuneDiagnosis", targets: ["TuneDiagnosis"]),
        .library(name: "TuneSearch", targets: ["TuneSearch"]),
        .library(name: "Tune", targets: ["Tune"]),
        .executable(name: "tune", targets: ["tune"]),
        .executable(name: "tune-bench", targets: ["TuneBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .target(name: "CTuneKernels"),
        .target(
            name: "TuneTensor",
            dependencies: ["CTuneKernels"],
            linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]
        ),
        .target(name: "TuneNN", dependencies: ["TuneTensor", "CTuneKernels"]),
        .target(name: "TuneData", dependencies: ["TuneTensor", "TuneDiagnosis", "CTuneKernels"]),
        .target(name: "TuneTraining", dependencies: ["TuneTensor", "TuneNN", "TuneData"]),
        .target(name: "TuneDiagnosis"),
        .target(name: "TuneSearch", dependencies: ["TuneTensor", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "TuneExport", dependencies: ["TuneDiagnosis", "TuneData", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["Generated/README.md"]),
        .target(name: "Tune", dependencies: ["TuneTensor", "TuneNN", "TuneData", "TuneTraining", "TuneDiagnosis", "TuneExport", "TuneSearch", .product(name: "Yams", package: "Yams")]),
        .executableTarget(
            name: "tune",
            dependencies: ["Tune", "TuneTensor", "TuneNN", "TuneData", "TuneTraining", "TuneDiagnosis", "TuneExport", "TuneSearch",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "TuneBench",
            dependencies: ["TuneTensor", "TuneNN", "TuneData", "TuneTraining"],
            path: "bench/Sources/TuneBench"
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TuneTensorTests", dependencies: ["TuneTensor"]),
        .testTarget(name: "TuneNNTests", dependencies: ["TestSupport", "TuneNN", "TuneTensor", "TuneData"], exclude: ["Fixtures"]),
        .testTarget(name: "TuneDataTests", dependencies: ["TuneData", "TuneTensor", "TuneDiagnosis"]),
        .testTarget(name: "TuneTrainingTests", dependencies: ["TuneTraining", "TuneData", "TuneNN", "TuneTensor"], exclude: ["Fixtures"]),
        .testTarget(name: "TuneSearchTests", dependencies: ["TestSupport", "TuneSearch", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "TuneDiagnosisTests", dependencies: ["TestSupport", "TuneDiagnosis", "TuneExport", "TuneData"], exclude: ["Fixtures"]),
        .testTarget(name: "TuneTests", dependencies: ["TestSupport", "Tune", "TuneTensor", "TuneData", "TuneTraining", "TuneDiagnosis", "TuneExport", "TuneSearch"]),
    ],
    swiftLanguageModes: [.v6]
)
