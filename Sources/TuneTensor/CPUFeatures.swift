import Foundation

/// The instruction-set features of the processor this process runs on, as the operating system reports them.
public struct CPUFeatures: Sendable, Equatable {
    /// Feature flags in Linux `/proc/cpuinfo` spelling (`avx2`, `fma`, `avx512f`, `avx512_bf16`, ...).
    public let flags: Set<String>
    /// The processor's model name, when known.
    public let modelName: String?

    public init(flags: Set<String>, modelName: String? = nil) {
        self.flags = flags
        self.modelName = modelName
    }

    /// The features of this machine: `/proc/cpuinfo` on Linux, `sysctl` on macOS, none elsewhere.
    public static let current: CPUFeatures = detect()

    /// The flags that matter for choosing a BLAS kernel, in a fixed order, for display.
    public var relevantFlags: [String] {
        [
            "sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16", "avx512_fp16",
            "amx_tile", "neon"
        ]
        .filter { flags.contains($0) }
    }

    /// Parses the `flags` line of the first processor in `/proc/cpuinfo` text.
    public static func parse(cpuinfo text: String) -> CPUFeatures {
        var flags = Set<String>()
        var model: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if (key == "flags" || key == "Features") && flags.isEmpty {
                flags = Set(value.split(separator: " ").map(String.init))
            } else if key == "model name" && model == nil {
                model = value
            }
            if !flags.isEmpty && model != nil { break }
        }
        return CPUFeatures(flags: flags, modelName: model)
    }

    private static func detect() -> CPUFeatures {
        #if os(Linux)
            if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
                return parse(cpuinfo: text)
            }
            return CPUFeatures(flags: [])
        #elseif canImport(Darwin)
            var flags = Set<String>()
            let names: [(String, String)] = [
                ("hw.optional.avx1_0", "avx"), ("hw.optional.avx2_0", "avx2"), ("hw.optional.fma", "fma"),
                ("hw.optional.avx512f", "avx512f"), ("hw.optional.avx512bw", "avx512bw"),
                ("hw.optional.avx512dq", "avx512dq"), ("hw.optional.avx512vl", "avx512vl"),
                ("hw.optional.neon", "neon"), ("hw.optional.arm.FEAT_BF16", "bf16")
            ]
            for (sysctlName, flag) in names {
                var value: Int32 = 0
                var size = MemoryLayout<Int32>.size
                if sysctlbyname(sysctlName, &value, &size, nil, 0) == 0 && value != 0 { flags.insert(flag) }
            }
            var model: String?
            var size = 0
            if sysctlbyname("machdep.cpu.brand_string", nil, &size, nil, 0) == 0 && size > 0 {
                var buffer = [CChar](repeating: 0, count: size)
                if sysctlbyname("machdep.cpu.brand_string", &buffer, &size, nil, 0) == 0 {
                    model = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                }
            }
            return CPUFeatures(flags: flags, modelName: model)
        #else
            return CPUFeatures(flags: [])
        #endif
    }
}
