// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "deploy",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "deploy", targets: ["deploy"]),
        .executable(name: "plan-benchmark", targets: ["PlanBenchmark"]),
        .executable(name: "apply-benchmark", targets: ["ApplyBenchmark"]),
        .executable(name: "inference-server", targets: ["InferenceServer"]),
        .executable(name: "matmul-benchmark", targets: ["MatmulBenchmark"]),
        .executable(name: "guardrail-benchmark", targets: ["GuardrailBenchmark"]),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CSSL",
            pkgConfig: "libssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(name: "TextSafety"),
        // the one user-facing error protocol every module's errors adopt
        .target(name: "Diagnostics"),
        .target(name: "Hashing", dependencies: ["Diagnostics", "CCrypto"]),
        .target(name: "AWS", dependencies: ["Diagnostics", "CCurl", "CCrypto", "Hashing", "TextSafety"]),
        // JSON5 read with every value's file, line and column: stacks, templates, catalogs, the server's guardrail policy
        .target(name: "JSON5Source", dependencies: ["Diagnostics", "Hashing", "TextSafety"]),
        // the deterministic guardrails: detectors of personal data and secrets, the policy file, masking and hold-back
        // (the server enforces them; deploy checks a policy file at plan time)
        .target(name: "Guardrails", dependencies: ["Hashing", "JSON5Source", "TextSafety"], path: "Inference/Guardrails"),
        .target(name: "Stack", dependencies: ["Diagnostics", "Guardrails", "Hashing", "JSON5Source", "TextSafety"]),
        .target(name: "Plan", dependencies: ["Diagnostics", "Stack", "AWS", "Hashing", "TextSafety"]),
        .target(name: "Provision", dependencies: ["Diagnostics", "AWS", "Stack", "Plan", "Hashing", "TextSafety"]),
        .target(name: "Costs", dependencies: ["Stack"]),
        .target(name: "Compliance", dependencies: ["Stack", "TextSafety"]),
        .target(name: "Bundling", dependencies: ["Diagnostics", "CCrypto", "GGUF", "Hashing", "TextSafety"]),
        // the workflow of plan, apply, destroy, check and import, every gate included, between the CLI and the modules it drives
        .target(name: "Deployment", dependencies: ["Diagnostics", "AWS", "Stack", "Plan", "Provision", "Costs", "Compliance", "Bundling", "Hashing", "TextSafety"]),
        .target(name: "DeployCLI", dependencies: ["Diagnostics", "AWS", "Stack", "Plan", "Provision", "Costs", "Compliance", "Bundling", "Deployment", "Hashing", "TextSafety"]),
        .executableTarget(name: "deploy", dependencies: ["DeployCLI"]),
        .executableTarget(name: "PlanBenchmark", dependencies: ["Stack", "Plan"], path: "Benchmarks/PlanBenchmark"),
        .executableTarget(name: "ApplyBenchmark", dependencies: ["AWS", "Stack", "Plan", "Provision"], path: "Benchmarks/ApplyBenchmark"),
        .testTarget(name: "AWSTests", dependencies: ["AWS", "Hashing"], exclude: ["Fixtures"]),
        .target(name: "InferenceKernelsAVX2", dependencies: ["CKernelIntrinsics"], path: "Inference/Kernels/AVX2", swiftSettings: kernelSettings(cpu: "haswell")),
        .systemLibrary(name: "CKernelIntrinsics", path: "Inference/Kernels/CIntrinsics"),
        .target(name: "InferenceKernelsAVX512", dependencies: ["InferenceKernelsAVX2", "CKernelIntrinsics"], path: "Inference/Kernels/AVX512",
                swiftSettings: kernelSettings(cpu: "cascadelake")),
        // the GGUF reader alone: the engine loads models with it, and deploy's bundles read a model's metadata without the engine
        .target(name: "GGUF", dependencies: ["Diagnostics", "TextSafety"], path: "Inference/GGUF"),
        .target(name: "InferenceEngine", dependencies: ["Diagnostics", "GGUF", "TextSafety", "InferenceKernelsAVX2", "InferenceKernelsAVX512"], path: "Inference/Engine", swiftSettings: engineSettings),
        .target(name: "InferenceService", dependencies: ["Diagnostics", "Guardrails", "InferenceEngine", "JSON5Source", "TextSafety", "Hashing", "CSSL"], path: "Inference/Service"),
        .executableTarget(name: "GuardrailBenchmark", dependencies: ["Guardrails"], path: "Benchmarks/GuardrailBenchmark"),
        .executableTarget(name: "MatmulBenchmark", dependencies: ["GGUF", "InferenceEngine", "CKernelIntrinsics"], path: "Benchmarks/MatmulBenchmark"),
        .executableTarget(name: "InferenceServer", dependencies: ["Diagnostics", "GGUF", "InferenceEngine", "InferenceService", "Hashing", "TextSafety"], path: "Inference/Server"),
        .testTarget(name: "InferenceTests", dependencies: ["Diagnostics", "GGUF", "InferenceEngine", "Guardrails", "InferenceService", "InferenceServer", "Hashing", "JSON5Source"], exclude: ["Fixtures"]),
        .target(name: "DeployTestSupport", path: "Tests/Support"),
        .testTarget(name: "StackTests", dependencies: ["Stack", "Hashing", "TextSafety", "DeployTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "PlanTests", dependencies: ["Plan", "Stack", "Hashing", "DeployTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CostsTests", dependencies: ["Costs", "Stack", "DeployTestSupport"]),
        .testTarget(name: "BundlingTests", dependencies: ["Bundling", "Hashing"]),
        .testTarget(name: "ComplianceTests", dependencies: ["Compliance", "Stack", "DeployTestSupport"]),
        .testTarget(name: "ProvisionTests", dependencies: ["Provision", "Plan", "Stack", "DeployTestSupport"]),
        .testTarget(name: "DeploymentTests", dependencies: ["Deployment", "Provision", "Plan", "Stack", "AWS", "Compliance", "DeployTestSupport"]),
        .testTarget(name: "DeployCLITests", dependencies: ["DeployCLI", "Deployment", "Diagnostics", "Provision", "AWS", "Stack", "Plan", "Bundling", "Hashing", "DeployTestSupport"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["AWS", "DeployCLI", "Stack", "Plan", "Provision", "Hashing", "deploy", "DeployTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

/// The engine's kernels are optimised in every configuration (debug builds of SIMD code run ~50x slower, which
/// would make the model tests take minutes), and on x86-64 compiled for AVX2/FMA/F16C (Haswell, 2013, and every
/// x86 EC2 instance type in use) so that the SIMD types lower to 256-bit instructions.
var engineSettings: [SwiftSetting] {
    var flags = ["-O"]
    #if arch(x86_64)
    flags += ["-target-cpu", "haswell"]
    #endif
    return [.unsafeFlags(flags)]
}

/// A kernel module built for one x86 instruction set; the engine calls into it only when the CPU reports that set.
/// Elsewhere (arm64) its sources compile to nothing.
func kernelSettings(cpu: String) -> [SwiftSetting] {
    #if arch(x86_64)
    return [.unsafeFlags(["-O", "-target-cpu", cpu])]
    #else
    return [.unsafeFlags(["-O"])]
    #endif
}
