import Foundation
import Glibc

/// Reads a file sequentially on a thread of its own, into a ring of buffers, so that the disk is reading the next
/// chunk while the caller hashes and writes this one. Memory: `depth` chunks.
final class ReadAhead: @unchecked Sendable {
    // @unchecked: two threads share it, the reader thread (`fill`) and the one caller of `chunkBytes` / `release` /
    // `finish`. A slot's bytes and count are written by the reader before `filled.signal()` and read by the caller
    // after `filled.wait()`; the caller hands the slot back with `empty.signal()` before the reader writes it again;
    // `failure` is written before the same signal; `stopped` is set before `empty.signal()` and read after
    // `empty.wait()`; `next` is the caller's alone. The semaphores order every access, so none needs a lock.
    private let descriptor: Int32
    private let chunk: Int
    private let buffers: [UnsafeMutableRawBufferPointer]
    private var counts: [Int]
    private var failure: Int32 = 0
    private let filled = DispatchSemaphore(value: 0)
    private let empty: DispatchSemaphore
    private var next = 0
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)

    init(descriptor: Int32, chunk: Int = 4 << 20, depth: Int = 2) {
        self.descriptor = descriptor
        self.chunk = chunk
        buffers = (0..<depth).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64) }
        counts = Array(repeating: 0, count: depth)
        empty = DispatchSemaphore(value: depth)
        Thread.detachNewThread { [self] in fill() }
    }

    private func fill() {
        var slot = 0
        while true {
            empty.wait()
            if stopped { break }
            var count = 0
            while count < chunk {
                let got = read(descriptor, buffers[slot].baseAddress! + count, chunk - count)
                if got < 0, errno == EINTR { continue }
                if got < 0 { failure = errno; break }
                if got == 0 { break }
                count += got
            }
            counts[slot] = failure != 0 ? -1 : count
            filled.signal()
            if count == 0 || failure != 0 { break }
            slot = (slot + 1) % buffers.count
        }
        done.signal()
    }

    /// The next chunk (valid until the following call), empty at the end of the file; an error is the errno.
    func chunkBytes() throws(BundleError) -> UnsafeRawBufferPointer {
        filled.wait()
        let slot = next % buffers.count
        let count = counts[slot]
        guard count >= 0 else { throw BundleError("cannot read: \(String(cString: strerror(failure)))") }
        next += 1
        return UnsafeRawBufferPointer(rebasing: buffers[slot][0..<count])
    }

    /// Hands the chunk last returned back to the reader.
    func release() { empty.signal() }

    /// Stops the reader and frees the buffers.
    func finish() {
        stopped = true
        empty.signal()
        done.wait()
        buffers.forEach { $0.deallocate() }
    }
}
