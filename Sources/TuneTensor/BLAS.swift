// The only file that knows which BLAS library swift-tune uses: OpenBLAS bound at run time on Linux (so that its
// kernel can be chosen before it loads), Accelerate on macOS, and a portable built-in product when neither is there.
#if canImport(Accelerate)
    import Accelerate
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Foundation
import TuneRandom

/// What the BLAS binding loaded, which kernel it runs and why.
public struct BLASInfo: Sendable {
    /// The library: "OpenBLAS", "Accelerate", or "built-in" when no BLAS library could be loaded.
    public let library: String
    /// The library's own description of itself (OpenBLAS's `openblas_get_config()`), when it has one.
    public let configuration: String?
    /// The file the library was loaded from, symbolic links resolved.
    public let path: String?
    /// The kernel the library runs (OpenBLAS's `openblas_get_corename()`), when it reports one.
    public let kernel: String?
    /// Why that kernel: the user's `OPENBLAS_CORETYPE`, the CPU's features, or a fallback after a failed self-test.
    public let reason: String
    /// The outcome of the one-time check of the library's product against a reference product.
    public let selfTest: BLASSelfTest
    /// What was tried before settling, in order (empty when the first choice held).
    public let attempts: [String]
}

/// The result of checking `sgemm` once against a product computed in double precision.
public struct BLASSelfTest: Sendable, Equatable {
    /// Whether every checked product agreed with the reference.
    public let passed: Bool
    /// The largest error seen, relative to the sum of |a||b| of the element (the scale of rounding error).
    public let maxRelativeError: Double
}

/// How OpenBLAS's kernel is chosen for this machine.
public struct BLASKernelChoice: Sendable, Equatable {
    /// The kernel to ask for through `OPENBLAS_CORETYPE`, or nil to let OpenBLAS decide.
    public let kernel: String?
    /// Whether the user set `OPENBLAS_CORETYPE` (then it is never changed).
    public let setByUser: Bool
    /// A sentence saying why.
    public let reason: String

    /// The kernels to try, in order, when the chosen one fails its self-test (nil: let OpenBLAS decide).
    public var fallbacks: [String?] {
        guard !setByUser else { return [] }
        switch kernel {
        case "Cooperlake": return ["SkylakeX", "Haswell", nil]
        case "SkylakeX": return ["Haswell", nil]
        case "Haswell": return [nil]
        default: return []
        }
    }
}

/// Single-precision matrix products through the platform's BLAS, with the kernel chosen for the CPU.
public enum BLAS {
    /// The OpenBLAS kernel for a machine: the user's `OPENBLAS_CORETYPE` if set, else one picked from CPU features
    /// (AVX-512 F+BW+DQ+VL: SkylakeX, with AVX512_BF16 as well: Cooperlake; AVX2+FMA: Haswell; else OpenBLAS decides).
    public static func chooseKernel(userSetting: String?, features: CPUFeatures) -> BLASKernelChoice {
        if let user = userSetting, !user.isEmpty {
            return BLASKernelChoice(
                kernel: user, setByUser: true, reason: "OPENBLAS_CORETYPE=\(user) was set by the user and is kept")
        }
        let f = features.flags
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(f.contains) {
            if f.contains("avx512_bf16") {
                return BLASKernelChoice(
                    kernel: "Cooperlake", setByUser: false, reason: "the CPU has AVX-512 F/BW/DQ/VL and AVX512_BF16")
            }
            return BLASKernelChoice(kernel: "SkylakeX", setByUser: false, reason: "the CPU has AVX-512 F/BW/DQ/VL")
        }
        if f.contains("avx2") && f.contains("fma") {
            return BLASKernelChoice(kernel: "Haswell", setByUser: false, reason: "the CPU has AVX2 and FMA")
        }
        return BLASKernelChoice(
            kernel: nil, setByUser: false, reason: "the CPU has neither AVX-512 nor AVX2+FMA; OpenBLAS decides")
    }

    /// What was loaded and why. Loading happens on first use of any BLAS function.
    public static var info: BLASInfo { shared.info }

    /// The number of threads BLAS uses for one product.
    public static var threadCount: Int { shared.backend.threadCount() }

    /// Sets the number of threads BLAS uses (1 when trials run in parallel processes). Has no effect on Accelerate
    /// or the built-in product, which decide for themselves.
    public static func setThreadCount(_ n: Int) {
        precondition(n >= 1, "BLAS.setThreadCount: \(n) is not a positive thread count")
        shared.backend.setThreadCount(n)
    }

    /// `C = alpha * op(A) * op(B) + beta * C` for row-major matrices, `op` transposing when asked.
    /// `op(A)` is `m x k`, `op(B)` is `k x n`, `C` is `m x n`.
    @inline(__always)
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        shared.backend.sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    private static let shared: LoadedBLAS = load(
        userSetting: environmentValue("OPENBLAS_CORETYPE"),
        features: CPUFeatures.current,
        verify: selfTest)

    static func environmentValue(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(cString: v)
    }

    // MARK: Loading

    final class LoadedBLAS: @unchecked Sendable {
        let backend: Backend
        let info: BLASInfo
        init(backend: Backend, info: BLASInfo) { self.backend = backend; self.info = info }
    }

    /// Loads the BLAS library: picks the kernel, loads it, checks it with `verify`, and falls back on failure.
    /// `isolated` loads even the first choice in a fresh namespace, so that tests can load a kernel of their own
    /// beside the one the process already uses.
    static func load(
        userSetting: String?, features: CPUFeatures, verify: (Backend) -> BLASSelfTest,
        isolated: Bool = false
    ) -> LoadedBLAS {
        #if canImport(Accelerate)
            return loadAccelerate(verify: verify)
        #else
            return loadOpenBLAS(userSetting: userSetting, features: features, verify: verify, isolated: isolated)
        #endif
    }

    #if canImport(Accelerate)
        /// Accelerate, checked with `verify`; the built-in product when it fails.
        private static func loadAccelerate(verify: (Backend) -> BLASSelfTest) -> LoadedBLAS {
            let backend = Backend.accelerate()
            let test = verify(backend)
            if test.passed {
                return LoadedBLAS(
                    backend: backend,
                    info: BLASInfo(
                        library: "Accelerate", configuration: nil,
                        path: "/System/Library/Frameworks/Accelerate.framework",
                        kernel: nil, reason: "Accelerate chooses its own kernels", selfTest: test, attempts: []))
            }
            let fallback = Backend.builtIn()
            return LoadedBLAS(
                backend: fallback,
                info: BLASInfo(
                    library: "built-in", configuration: nil, path: nil, kernel: nil,
                    reason: "Accelerate failed its self-test; using the portable built-in product",
                    selfTest: verify(fallback), attempts: ["Accelerate: self-test failed"]))
        }
    #else
        /// OpenBLAS with the kernel chosen for `features` (or the user's), checked with `verify`; on failure the
        /// fallback kernels in turn, each in a fresh namespace, and the built-in product when none passes or the
        /// library is not found.
        private static func loadOpenBLAS(
            userSetting: String?, features: CPUFeatures, verify: (Backend) -> BLASSelfTest, isolated: Bool
        ) -> LoadedBLAS {
            let choice = chooseKernel(userSetting: userSetting, features: features)
            var attempts: [String] = []
            let candidates: [String?] = [choice.kernel] + choice.fallbacks
            for (index, kernel) in candidates.enumerated() {
                guard
                    let backend = Backend.openBLAS(
                        kernel: kernel, setByUser: choice.setByUser, newNamespace: isolated || index > 0)
                else {
                    attempts.append("\(kernel ?? "OpenBLAS's own choice"): library not found")
                    break
                }
                let test = verify(backend)
                let label = kernel ?? "OpenBLAS's own choice"
                if test.passed {
                    let reason: String
                    if index == 0 {
                        reason = choice.reason
                    } else {
                        reason = "\(choice.kernel ?? "the first choice") failed the self-test; fell back to \(label)"
                    }
                    return LoadedBLAS(
                        backend: backend,
                        info: BLASInfo(
                            library: "OpenBLAS", configuration: backend.configuration, path: backend.path,
                            kernel: backend.coreName,
                            reason: reason, selfTest: test, attempts: attempts))
                }
                attempts.append(
                    "\(label) (ran \(backend.coreName ?? "?")): self-test failed, relative error \(test.maxRelativeError)"
                )
                FileHandle.standardError.write(
                    Data(
                        "swift-tune: warning: BLAS kernel \(backend.coreName ?? label) computed a wrong product in its self-test\n"
                            .utf8))
            }
            return builtInAfterOpenBLAS(attempts: attempts, verify: verify)
        }

        /// The built-in product, after every OpenBLAS kernel in `attempts` failed or the library was not found.
        private static func builtInAfterOpenBLAS(attempts: [String], verify: (Backend) -> BLASSelfTest) -> LoadedBLAS {
            let fallback = Backend.builtIn()
            let found = !attempts.contains { $0.hasSuffix("library not found") }
            let reason =
                found
                ? "every OpenBLAS kernel tried failed the self-test; using the portable built-in product (slow)"
                : "OpenBLAS was not found (install libopenblas-dev, or set TUNE_BLAS_LIBRARY); using the portable built-in product (slow)"
            return LoadedBLAS(
                backend: fallback,
                info: BLASInfo(
                    library: "built-in", configuration: nil, path: nil, kernel: nil,
                    reason: reason, selfTest: verify(fallback), attempts: attempts))
        }
    #endif

    // MARK: Backends

    typealias SgemmC32 =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
            UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32
        ) -> Void
    typealias SgemmC64 =
        @convention(c) (
            Int32, Int32, Int32, Int64, Int64, Int64, Float, UnsafePointer<Float>?, Int64,
            UnsafePointer<Float>?, Int64, Float, UnsafeMutablePointer<Float>?, Int64
        ) -> Void
    typealias SetThreadsC = @convention(c) (Int32) -> Void
    typealias GetThreadsC = @convention(c) () -> Int32
    typealias GetStringC = @convention(c) () -> UnsafePointer<CChar>?

    /// One loaded BLAS: its product and its thread controls.
    final class Backend: @unchecked Sendable {
        let sgemm:
            (
                Bool, Bool, Int, Int, Int, Float, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, Float,
                UnsafeMutablePointer<Float>, Int
            ) -> Void
        let threadCount: () -> Int
        let setThreadCount: (Int) -> Void
        let coreName: String?
        let configuration: String?
        let path: String?

        init(
            sgemm:
                @escaping (
                    Bool, Bool, Int, Int, Int, Float, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, Float,
                    UnsafeMutablePointer<Float>, Int
                ) -> Void,
            threadCount: @escaping () -> Int, setThreadCount: @escaping (Int) -> Void,
            coreName: String?, configuration: String?, path: String?
        ) {
            self.sgemm = sgemm
            self.threadCount = threadCount
            self.setThreadCount = setThreadCount
            self.coreName = coreName
            self.configuration = configuration
            self.path = path
        }

        /// The portable product: correct everywhere, single-threaded, far slower than a tuned BLAS.
        static func builtIn() -> Backend {
            Backend(
                sgemm: referenceSgemm, threadCount: { 1 }, setThreadCount: { _ in }, coreName: nil, configuration: nil,
                path: nil)
        }

        #if canImport(Accelerate)
            static func accelerate() -> Backend {
                Backend(
                    sgemm: { ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
                        cblas_sgemm(
                            CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
                    },
                    threadCount: { ProcessInfo.processInfo.activeProcessorCount }, setThreadCount: { _ in },
                    coreName: nil, configuration: nil, path: nil)
            }
        #else
            /// Loads OpenBLAS with `OPENBLAS_CORETYPE` set to `kernel` (unless the user set it). A fresh link-map
            /// namespace gives a fresh copy of the library, which reads the variable again: that is how a fallback
            /// kernel can be loaded after a first one was.
            static func openBLAS(kernel: String?, setByUser: Bool, newNamespace: Bool) -> Backend? {
                if !setByUser {
                    if let kernel { setenv("OPENBLAS_CORETYPE", kernel, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
                }
                defer { if !setByUser { unsetenv("OPENBLAS_CORETYPE") } }
                var names = ["libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0"]
                if let custom = BLAS.environmentValue("TUNE_BLAS_LIBRARY"), !custom.isEmpty { names = [custom] }
                for name in names {
                    guard let handle = open(name, newNamespace: newNamespace) else { continue }
                    guard let symbol = dlsym(handle, "cblas_sgemm") else { continue }
                    let config = stringFunction(handle, "openblas_get_config")
                    let core = stringFunction(handle, "openblas_get_corename")
                    let setThreads = dlsym(handle, "openblas_set_num_threads").map {
                        unsafeBitCast($0, to: SetThreadsC.self)
                    }
                    let getThreads = dlsym(handle, "openblas_get_num_threads").map {
                        unsafeBitCast($0, to: GetThreadsC.self)
                    }
                    let path = libraryPath(containing: symbol)
                    let wide = config?.contains("USE64BITINT") ?? false
                    let product:
                        (
                            Bool, Bool, Int, Int, Int, Float, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int,
                            Float, UnsafeMutablePointer<Float>, Int
                        ) -> Void
                    if wide {
                        let f = unsafeBitCast(symbol, to: SgemmC64.self)
                        product = { ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
                            f(
                                101, ta ? 112 : 111, tb ? 112 : 111, Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda),
                                b, Int64(ldb), beta, c, Int64(ldc))
                        }
                    } else {
                        let f = unsafeBitCast(symbol, to: SgemmC32.self)
                        product = { ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
                            f(
                                101, ta ? 112 : 111, tb ? 112 : 111, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda),
                                b, Int32(ldb), beta, c, Int32(ldc))
                        }
                    }
                    return Backend(
                        sgemm: product,
                        threadCount: { getThreads.map { Int($0()) } ?? 1 },
                        setThreadCount: { n in setThreads?(Int32(clamping: n)) },
                        coreName: core.map { $0.trimmingCharacters(in: .whitespaces) },
                        configuration: config.map { $0.trimmingCharacters(in: .whitespaces) },
                        path: path)
                }
                return nil
            }

            private static func open(_ name: String, newNamespace: Bool) -> UnsafeMutableRawPointer? {
                if !newNamespace { return dlopen(name, RTLD_NOW | RTLD_LOCAL) }
                typealias DlmopenC = @convention(c) (Int, UnsafePointer<CChar>?, Int32) -> UnsafeMutableRawPointer?
                guard let symbol = dlsym(nil, "dlmopen") else { return nil }
                let dlmopen = unsafeBitCast(symbol, to: DlmopenC.self)
                return dlmopen(-1 /* LM_ID_NEWLM */, name, RTLD_NOW | RTLD_LOCAL)
            }

            /// The file holding `address`, through glibc's `dladdr` (looked up at run time, as the Glibc module does
            /// not export it), symbolic links resolved.
            private static func libraryPath(containing address: UnsafeMutableRawPointer) -> String? {
                struct DlInfo {
                    var fileName: UnsafePointer<CChar>? = nil
                    var fileBase: UnsafeMutableRawPointer? = nil
                    var symbolName: UnsafePointer<CChar>? = nil
                    var symbolAddress: UnsafeMutableRawPointer? = nil
                }
                typealias DladdrC = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?) -> Int32
                guard let symbol = dlsym(nil, "dladdr") else { return nil }
                let dladdr = unsafeBitCast(symbol, to: DladdrC.self)
                var info = DlInfo()
                let found = withUnsafeMutablePointer(to: &info) { dladdr(address, UnsafeMutableRawPointer($0)) }
                guard found != 0, let name = info.fileName else { return nil }
                return URL(fileURLWithPath: String(cString: name)).resolvingSymlinksInPath().path
            }

            private static func stringFunction(_ handle: UnsafeMutableRawPointer, _ name: String) -> String? {
                guard let symbol = dlsym(handle, name) else { return nil }
                let f = unsafeBitCast(symbol, to: GetStringC.self)
                return f().map { String(cString: $0) }
            }
        #endif
    }
}
