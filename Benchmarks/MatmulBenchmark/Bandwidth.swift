import InferenceEngine
#if canImport(Glibc)
import Glibc
#endif
#if arch(x86_64)
import CKernelIntrinsics
#endif

/// Bytes per second that the threads of `workers` read together, 512 MiB each in 2 MiB pages, OR-reduced 64 bytes at
/// a time with the lines 8 KiB ahead asked for, as the one-token kernels stream their weights: best of five. The
/// ceiling `scripts/inference_benchmark.py` puts generation against.
func readBandwidth(workers: Workers) -> Double {
    let page = 2 << 20, pages = 256 * workers.threads, bytes = pages * page
    guard let start = mmap(nil, bytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), start != MAP_FAILED else {
        fail("cannot map \(bytes + page) bytes")
    }
    defer { munmap(start, bytes + page) }
    let base = UnsafeMutableRawPointer(bitPattern: (Int(bitPattern: start) + page - 1) / page * page)!
    _ = madvise(base, bytes, MADV_HUGEPAGE)
    workers.split(pages) { range in  // touched by the threads that read them, each page's memory near its reader
        for p in range { (base + p * page).initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: p | 1), count: page) }
    }
    let results = UnsafeMutablePointer<SIMD8<UInt64>>.allocate(capacity: pages)
    defer { results.deallocate() }
    var best = 0.0
    for _ in 0..<5 {
        let begin = seconds()
        workers.split(pages) { range in
            for p in range {
                let first = UnsafeRawPointer(base + p * page)
                var a = SIMD8<UInt64>(), b = SIMD8<UInt64>()
                for offset in stride(from: 0, to: page, by: 128) {
                    #if arch(x86_64)
                    deploy_prefetch(first + (offset + 8192))
                    deploy_prefetch(first + (offset + 8256))
                    #endif
                    a |= first.load(fromByteOffset: offset, as: SIMD8<UInt64>.self)
                    b |= first.load(fromByteOffset: offset + 64, as: SIMD8<UInt64>.self)
                }
                results[p] = a | b
            }
        }
        best = max(best, Double(bytes) / (seconds() - begin))
    }
    // the reduction's result used, so that no compiler drops the reads
    var total = SIMD8<UInt64>()
    for p in 0..<pages { total |= results[p] }
    if total == SIMD8() { fail("read back nothing") }
    return best
}
