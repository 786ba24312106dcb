/// The sampler's buffers, kept from token to token so that sampling allocates nothing once they have grown to the
/// vocabulary.
final class SamplerWorkspace: @unchecked Sendable {
    // @unchecked: a Sampler writes to its workspace only while it holds the sole reference (it makes its own first
    // when a copy of it shares one), so no two threads ever touch one at once.
    private(set) var capacity = 0
    /// The logits after bias and penalties (or with non-finite values tamed), when they differ from the input.
    private(set) var adjusted = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    /// The draw's weights: per token (nothing cut) or per pool position, beside `tokens`.
    private(set) var weights = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    /// The pool's tokens, when something was cut.
    private(set) var tokens = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    /// A heap's storage: the scan in order of likelihood, the reported alternatives.
    private(set) var order = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    /// The weights' sums, block by block of `SamplingKernels.block`.
    private(set) var blockSums = UnsafeMutablePointer<Float>.allocate(capacity: 1)

    /// Top-p's bins.
    let histogram = UnsafeMutablePointer<Float>.allocate(capacity: SamplingKernels.bins)

    /// Makes room for `count` tokens.
    func reserve(_ count: Int) {
        guard count > capacity else { return }
        release()
        adjusted = .allocate(capacity: count)
        weights = .allocate(capacity: count)
        tokens = .allocate(capacity: count)
        order = .allocate(capacity: count)
        blockSums = .allocate(capacity: count / SamplingKernels.block + 1)
        capacity = count
    }

    private func release() {
        adjusted.deallocate()
        weights.deallocate()
        tokens.deallocate()
        order.deallocate()
        blockSums.deallocate()
    }

    deinit {
        release()
        histogram.deallocate()
    }
}
