#if canImport(Glibc)
import Glibc
#endif

/// Keeps glibc from holding on to freed scratch memory. A forward pass allocates and frees megabytes of activations
/// at a time; glibc's adaptive mmap threshold soon moves such blocks into its heaps, where they stay resident after
/// `free` (measured: a 512-token prompt on a 591 MiB model peaked at 786 MiB instead of 637). A fixed threshold of
/// 256 KiB sends them to mmap and back on free. `mallopt` lives in <malloc.h>, which Swift's Glibc module does not
/// import, so it is looked up by name.
enum MemoryPolicy {
    static func apply() {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(mmapThreshold, 256 * 1024)
        #endif
    }
}
