#if canImport(Glibc)
import Glibc
#endif
#if arch(x86_64)
import InferenceKernelsAVX2
#endif

/// A weight matrix's rows copied into the layout a kernel streams best, made once at load. The file's own pages of
/// those rows are given back to the kernel (`MADV_DONTNEED`: read again from the file should anything still use
/// them, an embedding lookup of a tied matrix), so the copy costs memory only while it is made, a tensor at a time.
final class RepackedRows: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let byteCount: Int

    private init(byteCount: Int) {
        self.byteCount = byteCount
        base = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
    }

    deinit { base.deallocate() }

    /// Q4_0 rows (a multiple of 8) interleaved eight at a time for the x86 kernels (`InterleavedQ4_0`); nil where
    /// `kernels` multiply them in place.
    static func q4_0(_ source: UnsafeRawPointer, rows: Int, rowBytes: Int, kernels: KernelSet) -> RepackedRows? {
        #if arch(x86_64)
        guard kernels != .portable else { return nil }
        let blocks = rowBytes / 18, groupBytes = blocks * InterleavedQ4_0<AVX2Dot>.groupBlockBytes
        let repacked = RepackedRows(byteCount: rows / 8 * groupBytes)
        for group in 0..<(rows / 8) {
            InterleavedQ4_0<AVX2Dot>.repack({ source + (group * 8 + $0) * rowBytes }, blocks: blocks, into: repacked.base + group * groupBytes)
        }
        release(source, bytes: rows * rowBytes)
        return repacked
        #else
        return nil
        #endif
    }

    /// Gives back the whole pages of `bytes` at `start` (part of a read-only file mapping).
    private static func release(_ start: UnsafeRawPointer, bytes: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page, end = (Int(bitPattern: start) + bytes) / page * page
        guard end > first, let pointer = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(pointer, end - first, MADV_DONTNEED)
    }
}
