#if arch(x86_64)
import CKernelIntrinsics

/// Generation streams every weight once a token, and the hardware's prefetchers alone keep too few cache lines in
/// flight to reach the memory's rate; the one-token kernels ask for the bytes `distance` ahead of those they read
/// (`prefetcht0`). A thread's rows lie one after another, so these are its next rows' bytes (or, past its share, a
/// few lines it will not use; a prefetch never faults).
///
/// Q8_0 at batch 1, 131,072 × 2,048 rows in 2 MiB pages, 2 threads (`matmul-benchmark -t 2 -b 1 -r 131072 --types
/// q8_0 --sets avx512`, Sapphire Rapids): 7.3–9.3 GMAC/s without, 10.7–12.2 at 8 KiB, 10.0–10.7 at 12 KiB, 8.9–10.2
/// at 32 KiB; one thread 5.25 against 7.82 at 8 KiB.
public enum StreamPrefetch {
    @inlinable @inline(__always)
    public static var distance: Int { 8192 }

    /// Asks for the lines of the `bytes` bytes that lie `distance` after `p`, one hint per 64 bytes.
    @inlinable @inline(__always)
    public static func ahead(_ p: UnsafeRawPointer, bytes: Int) {
        var offset = 0
        while offset < bytes {
            deploy_prefetch(p + (distance &+ offset))
            offset &+= 64
        }
    }
}
#endif
