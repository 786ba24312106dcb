#if canImport(Glibc)
import GGUF
import Glibc
#endif
#if arch(x86_64)
import InferenceKernelsAVX2
#endif

/// A weight matrix's rows copied into the layout a kernel streams best (or as they are, into 2 MiB pages), made once
/// at load. Rows read from a file
/// mapping have their pages given back to the kernel (`MADV_DONTNEED`: read again from the file should anything
/// still use them), so the copy costs memory only while it is made, a tensor at a time. (Never for rows in ordinary
/// memory, which that would zero.)
final class RepackedRows: @unchecked Sendable {
    // @unchecked: the rows are written only while the factory methods fill them, before they return; after that
    // every thread only reads them, and the mapping is unmapped only in deinit, when nothing holds them
    let base: UnsafeMutableRawPointer
    let byteCount: Int
    /// The mapping `base` lies in.
    private let mapping: (start: UnsafeMutableRawPointer, bytes: Int)

    /// 2 MiB pages where the system gives them (transparent huge pages, asked for with `MADV_HUGEPAGE`): the rows are
    /// streamed once per token, and with 4 KiB pages the hardware prefetchers stop at every page (TinyLlama-shaped
    /// Q4_K_M generation about 10% faster). Only whole 2 MiB pages of the rows are asked for, so the last part costs
    /// no more than its own bytes.
    private init(byteCount: Int) {
        self.byteCount = byteCount
        let huge = 2 << 20, bytes = (byteCount + huge - 1) / huge * huge + huge
        guard let start = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), start != MAP_FAILED else {
            fatalError("cannot map \(bytes) bytes for repacked weights: \(String(cString: strerror(errno)))")
        }
        mapping = (start, bytes)
        base = UnsafeMutableRawPointer(bitPattern: (Int(bitPattern: start) + huge - 1) / huge * huge)!
        if byteCount >= huge { _ = madvise(base, byteCount / huge * huge, MADV_HUGEPAGE) }
    }

    deinit { munmap(mapping.start, mapping.bytes) }

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

    /// Rows in a file mapping copied as they are, each whole 2 MiB of them into a 2 MiB page, and the file's pages
    /// given back (every matrix, however small: see `ModelWeights`); nil for rows not in a mapping. The copy goes
    /// 32 MiB at a time, each part's file pages given back before the next, so that a large matrix (Gemma 3's 170 MB
    /// embedding) is never held twice.
    static func resident(_ source: UnsafeRawPointer, bytes: Int, mapped: Bool) -> RepackedRows? {
        guard mapped else { return nil }
        let copy = RepackedRows(byteCount: bytes), part = 32 << 20
        for start in Swift.stride(from: 0, to: bytes, by: part) {
            let end = min(bytes, start + part)
            (copy.base + start).copyMemory(from: source + start, byteCount: end - start)
            releaseMapped(source, bytes: end)  // from the first byte: the page a part ends in is whole only with the next
        }
        return copy
    }

    /// Gives back the whole pages of `bytes` at `start` (part of a read-only file mapping).
    private static func releaseMapped(_ start: UnsafeRawPointer, bytes: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page, end = (Int(bitPattern: start) + bytes) / page * page
        guard end > first, let pointer = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(pointer, end - first, MADV_DONTNEED)
    }
}
