import Foundation

/// The instruction sets the matrix kernels come in. `portable` is Swift's SIMD types (on x86-64 built for the
/// engine's Haswell baseline), the reference the others are tested against; `avx2` and `avx512` call modules of
/// x86 intrinsics built for those CPUs. Every set sums exactly as ggml's x86 kernels do, so all give the same bits.
public enum KernelSet: String, Sendable, CaseIterable {
    case portable, avx2, avx512

    /// The set used unless one is asked for: AVX2 where the CPU has it. The AVX-512 set runs only when asked
    /// (`--kernels avx512`) until it is the faster: measured here (AMD EPYC, Zen 4) its 512-bit `vpdpbusd` on
    /// zero-extended 256-bit halves generates 0.75x as fast as AVX2 (`inference-server bench`, Q4_0 TinyLlama
    /// shape, 2 threads: tg16 19.1 against 25.5 t/s).
    public static let detected: KernelSet = available.contains(.avx2) ? .avx2 : .portable

    /// The sets this CPU runs, from the flags the kernel reports in /proc/cpuinfo (which it clears for state the
    /// OS does not save, such as AVX-512's registers).
    public static let available: [KernelSet] = {
        #if arch(x86_64)
        let flags = cpuFlags()
        var sets: [KernelSet] = [.portable]
        if flags.isSuperset(of: ["avx2", "fma", "f16c"]) { sets.append(.avx2) }
        if sets.contains(.avx2), flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512_vnni"]) { sets.append(.avx512) }
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
