#if canImport(Glibc)
import Glibc
#endif
#if arch(x86_64)
import InferenceKernelsAVX2
#endif

/// A weight matrix's rows copied into the layout a kernel streams best, made once at load. Rows read from a file
/// mapping have their pages given back to the kernel (`MADV_DONTNEED`: read again from the file should anything
/// still use them), so the copy costs memory only while it is made, a tensor at a time. (Never for rows in ordinary
/// memory, which that would zero.)
final class RepackedRows: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let byteCount: Int

    private init(byteCount: Int) {
        self.byteCount = byteCount
        base = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
    }

    deinit { base.deallocate() }

    /// Rows (a multiple of 8) of Q4_0 or Q4_K interleaved eight at a time for the x86 kernels (`InterleavedQ4_0`,
    /// `InterleavedQ4K`); nil for other types and where `kernels` multiply them in place. `mapped`: the source lies
    /// in a read-only file mapping, whose pages are given back once copied.
    static func interleaved(_ type: TensorType, _ source: UnsafeRawPointer, rows: Int, rowBytes: Int, kernels: KernelSet,
                            mapped: Bool) -> RepackedRows? {
        #if arch(x86_64)
        guard kernels != .portable, rows % 8 == 0 else { return nil }
        let blocks: Int, groupBlockBytes: Int, repack: ((Int) -> UnsafeRawPointer, Int, UnsafeMutableRawPointer) -> Void
        switch type {
        case .q4_0:
            (blocks, groupBlockBytes) = (rowBytes / 18, InterleavedQ4_0<AVX2Dot>.groupBlockBytes)
            repack = { InterleavedQ4_0<AVX2Dot>.repack($0, blocks: $1, into: $2) }
        case .q4_K:
            (blocks, groupBlockBytes) = (rowBytes / 144, InterleavedQ4K<AVX2Dot>.groupBlockBytes)
            repack = { InterleavedQ4K<AVX2Dot>.repack($0, blocks: $1, into: $2) }
        default:
            return nil
        }
        let groupBytes = blocks * groupBlockBytes
        let repacked = RepackedRows(byteCount: rows / 8 * groupBytes)
        for group in 0..<(rows / 8) {
            repack({ source + (group * 8 + $0) * rowBytes }, blocks, repacked.base + group * groupBytes)
        }
        if mapped { releaseMapped(source, bytes: rows * rowBytes) }
        return repacked
        #else
        return nil
        #endif
    }

    /// Gives back the whole pages of `bytes` at `start` (part of a read-only file mapping).
    private static func releaseMapped(_ start: UnsafeRawPointer, bytes: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page, end = (Int(bitPattern: start) + bytes) / page * page
        guard end > first, let pointer = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(pointer, end - first, MADV_DONTNEED)
    }
}
