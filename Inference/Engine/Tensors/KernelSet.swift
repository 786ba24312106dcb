import Foundation

/// The instruction sets the matrix kernels come in. `portable` is Swift's SIMD types (on x86-64 built for the
/// engine's Haswell baseline), the reference the others are tested against; `avx2` and `avx512` call modules of
/// x86 intrinsics built for those CPUs. Every set sums exactly as ggml's x86 kernels do, so all give the same bits.
public enum KernelSet: String, Sendable, CaseIterable {
    case portable, avx2, avx512

    /// The set used unless one is asked for: the widest this CPU runs. Measured here (AMD EPYC, Zen 4;
    /// `scripts/inference_benchmark.py -p 128 -n 32 -r 2 --threads 2 --kernels avx2,avx512 --depth 2048`, 2026-12-01),
    /// the AVX-512 set against AVX2: Q4_0 pp128 145 against 85 t/s, tg32 48.8 against 45.5; Q8_0 pp128 62.8 against
    /// 56.2, tg32 22.6 against 25.6; Q4_K_M and Gemma 3 alike or ahead. (Until its int8 dot was the 256-bit
    /// `vpdpbusd` it generated 0.75x as fast, and ran only when asked.)
    public static let detected: KernelSet = available.last ?? .portable

    /// The sets this CPU runs, from the flags the kernel reports in /proc/cpuinfo (which it clears for state the
    /// OS does not save, such as AVX-512's registers).
    public static let available: [KernelSet] = {
        #if arch(x86_64)
        let flags = cpuFlags()
        var sets: [KernelSet] = [.portable]
        if flags.isSuperset(of: ["avx2", "fma", "f16c"]) { sets.append(.avx2) }
        if sets.contains(.avx2), flags.isSuperset(of: ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni"]) { sets.append(.avx512) }
        return sets
        #else
        return [.portable]
        #endif
    }()

    /// Whether this CPU runs the set.
    public var isAvailable: Bool { Self.available.contains(self) }

    static func cpuFlags() -> Set<Substring> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " "))
    }
}
