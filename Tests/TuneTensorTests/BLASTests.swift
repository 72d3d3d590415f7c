import Foundation
import Testing
@testable import TuneTensor

@Suite("BLAS: kernel choice, self-test and fallback")
struct BLASTests {
    let skylake = CPUFeatures(flags: ["sse4_2", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"])
    let cooperlake = CPUFeatures(flags: [
        "sse4_2", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16"
    ])

    @Test func kernelIsChosenFromCPUFeatures() {
        #expect(BLAS.chooseKernel(userSetting: nil, features: cooperlake).kernel == "Cooperlake")
        #expect(BLAS.chooseKernel(userSetting: nil, features: skylake).kernel == "SkylakeX")
        #expect(BLAS.chooseKernel(userSetting: nil, features: CPUFeatures(flags: ["avx2", "fma"])).kernel == "Haswell")
        // AVX-512 F alone is not enough for the SkylakeX kernel; AVX2 without FMA is not enough for Haswell.
        #expect(
            BLAS.chooseKernel(userSetting: nil, features: CPUFeatures(flags: ["avx512f", "avx2", "fma"])).kernel
                == "Haswell")
        #expect(BLAS.chooseKernel(userSetting: nil, features: CPUFeatures(flags: ["avx2"])).kernel == nil)
        #expect(BLAS.chooseKernel(userSetting: nil, features: CPUFeatures(flags: [])).kernel == nil)
    }

    @Test func aKernelTheUserSetIsKept() {
        let choice = BLAS.chooseKernel(userSetting: "Prescott", features: cooperlake)
        #expect(choice.kernel == "Prescott")
        #expect(choice.setByUser)
        #expect(choice.fallbacks.isEmpty, "a user's choice is never replaced by another kernel")
        #expect(choice.reason.contains("set by the user"))
        // An empty value counts as unset.
        #expect(BLAS.chooseKernel(userSetting: "", features: cooperlake).kernel == "Cooperlake")
    }

    @Test func fallbacksStepDownToSaferKernels() {
        #expect(BLAS.chooseKernel(userSetting: nil, features: cooperlake).fallbacks == ["SkylakeX", "Haswell", nil])
        #expect(BLAS.chooseKernel(userSetting: nil, features: skylake).fallbacks == ["Haswell", nil])
    }

    @Test func theLoadedLibraryPassesItsSelfTest() {
        let info = BLAS.info
        #expect(info.selfTest.passed, "\(info)")
        #expect(info.selfTest.maxRelativeError < 1e-5)
        #if os(Linux)
            #expect(info.library == "OpenBLAS", "OpenBLAS should be installed (make test installs it): \(info.reason)")
            #expect(info.kernel != nil)
            #expect(info.path != nil)
        #endif
    }

    @Test func theSelfTestRejectsAWrongProduct() {
        // A product that is right except for one element, as a miscompiled edge kernel would be.
        let broken = BLAS.Backend(
            sgemm: { ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
                BLAS.referenceSgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
                if m > 30 { c[ldc * (m - 1) + n - 1] += 0.01 }
            },
            threadCount: { 1 }, setThreadCount: { _ in }, coreName: "Broken", configuration: nil, path: nil)
        #expect(!BLAS.selfTest(broken).passed)
        #expect(BLAS.selfTest(BLAS.Backend.builtIn()).passed)
    }

    #if os(Linux)
        @Test func aKernelThatFailsItsSelfTestIsReplacedByTheNextOne() {
            // Pretend the first kernel tried computes wrong products: the loader must load the next kernel in a fresh
            // namespace, and that copy must really run the other kernel and compute right.
            var calls = 0
            let loaded = BLAS.load(
                userSetting: nil, features: cooperlake,
                verify: { backend in
                    calls += 1
                    return calls == 1 ? BLASSelfTest(passed: false, maxRelativeError: 1) : BLAS.selfTest(backend)
                }, isolated: true)
            #expect(loaded.info.library == "OpenBLAS")
            #expect(loaded.info.kernel == "SkylakeX", "\(loaded.info)")
            #expect(loaded.info.reason.contains("fell back to SkylakeX"))
            #expect(loaded.info.attempts.count == 1)
            #expect(BLAS.selfTest(loaded.backend).passed)
        }

        @Test func whenEveryKernelFailsTheBuiltInProductIsUsed() {
            let loaded = BLAS.load(
                userSetting: "Haswell", features: cooperlake,
                verify: { backend in
                    backend.coreName == nil ? BLAS.selfTest(backend) : BLASSelfTest(passed: false, maxRelativeError: 1)
                }, isolated: true)
            #expect(loaded.info.library == "built-in")
            #expect(loaded.info.selfTest.passed)
            #expect(loaded.info.attempts.count == 1, "a kernel the user set is tried alone: \(loaded.info.attempts)")
        }
    #endif

    @Test func threadCountCanBeSet() {
        let before = BLAS.threadCount
        BLAS.setThreadCount(1)
        #if os(Linux)
            #expect(BLAS.threadCount == 1)
        #endif
        BLAS.setThreadCount(before)
        #expect(BLAS.threadCount == before)
    }

    @Test func cpuFeaturesAreParsedFromCpuinfo() {
        let text = """
            processor\t: 0
            vendor_id\t: GenuineIntel
            model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
            flags\t\t: fpu vme sse4_2 avx avx2 fma avx512f avx512dq avx512bw avx512vl

            processor\t: 1
            flags\t\t: fpu
            """
        let features = CPUFeatures.parse(cpuinfo: text)
        #expect(features.modelName == "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz")
        #expect(features.flags.contains("avx512vl"))
        #expect(!features.flags.contains("avx512_bf16"))
        #expect(BLAS.chooseKernel(userSetting: nil, features: features).kernel == "SkylakeX")
    }
}
