import Foundation

/// The passes the sampler makes over a vocabulary's logits, none of which sorts it: a vectorised maximum, a
/// vectorised exponential with block sums (what a draw scans), a threshold collection, a weighted selection for
/// top-p, and heaps over token ids for top-k and for the rare scans in order of likelihood.
enum SamplingKernels {
    typealias Lanes = SIMD16<Float>

    /// Weights summed per block of this many, so that a draw skips whole blocks.
    static let block = 64

    /// Below this, `e^x` is taken as 0: `VectorExp`'s fast path holds for arguments above it, and what it drops is
    /// below 2^-125 of the most likely token.
    static let floor: Float = -87

    /// The largest logit (−∞ for none), and whether any is NaN or +∞ (which the sampler tames first).
    static func maximum(_ x: UnsafePointer<Float>, _ count: Int) -> (value: Float, nonFinite: Bool) {
        var best = Lanes(repeating: -.infinity)
        var bad = SIMDMask<SIMD16<Int32>>(repeating: false)
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self)
            bad .|= (v .!= v) .| (v .== .infinity)
            best = pointwiseMax(best, v)
            i += 16
        }
        var value = best.max()
        var nonFinite = any(bad)
        while i < count {
            nonFinite = nonFinite || x[i].isNaN || x[i] == .infinity
            value = max(value, x[i])
            i += 1
        }
        return (value, nonFinite)
    }

    /// `e^((x - maximum) · scale)` for lanes loaded from `x` (the tail padded with −∞), 0 below `floor`.
    @inline(__always)
    static func exponential(_ v: Lanes, _ maximum: Float, _ scale: Float) -> Lanes {
        let argument = (v - maximum) * scale
        return VectorExp.exp(pointwiseMax(argument, Lanes(repeating: floor))).replacing(with: 0, where: argument .< floor)
    }

    @inline(__always)
    static func load(_ x: UnsafePointer<Float>, _ i: Int, _ count: Int) -> Lanes {
        if i + 16 <= count { return UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self) }
        var v = Lanes(repeating: -.infinity)
        for lane in 0..<(count - i) { v[lane] = x[i + lane] }
        return v
    }

    /// Writes every token's weight `e^((x - maximum) · scale)` and the block sums; returns the total.
    static func exponentiate(_ x: UnsafePointer<Float>, _ count: Int, maximum: Float, scale: Float,
                             into weights: UnsafeMutablePointer<Float>, blockSums: UnsafeMutablePointer<Float>) -> Double {
        var total: Double = 0
        var start = 0, b = 0
        while start < count {
            var sum = Lanes()
            var i = start
            while i < min(count, start + block) {
                let e = exponential(load(x, i, count), maximum, scale)
                if i + 16 <= count {
                    UnsafeMutableRawPointer(weights + i).storeBytes(of: e, as: Lanes.self)
                } else {
                    for lane in 0..<(count - i) { weights[i + lane] = e[lane] }
                }
                sum += e
                i += 16
            }
            let blockSum = VectorExp.laneSum(sum)
            blockSums[b] = blockSum
            total += Double(blockSum)
            start += block
            b += 1
        }
        return total
    }

    /// The sum of `e^(x - maximum)` over all tokens, in double precision (log-probabilities' denominator).
    static func exponentialSum(_ x: UnsafePointer<Float>, _ count: Int, maximum: Float) -> Double {
        var total: Double = 0
        var start = 0
        while start < count {
            var sum = Lanes()
            var i = start
            while i < min(count, start + block) {
                sum += exponential(load(x, i, count), maximum, 1)
                i += 16
            }
            total += Double(VectorExp.laneSum(sum))
            start += block
        }
        return total
    }

    /// Collects, in id order, the tokens whose `e^(x - maximum)` is positive and at least `threshold` into `tokens`,
    /// their weights into `weights`. Returns how many, and the sum of `e^(x - maximum)` over every token.
    static func collect(_ x: UnsafePointer<Float>, _ count: Int, maximum: Float, threshold: Float,
                        tokens: UnsafeMutablePointer<Int32>, weights: UnsafeMutablePointer<Float>) -> (count: Int, total: Double) {
        var kept = 0
        var total: Double = 0
        var start = 0
        while start < count {
            var sum = Lanes()
            var i = start
            while i < min(count, start + block) {
                let e = exponential(load(x, i, count), maximum, 1)
                sum += e
                let keep = (e .>= threshold) .& (e .> 0)
                if any(keep) {
                    for lane in 0..<min(16, count - i) where keep[lane] {
                        tokens[kept] = Int32(i + lane)
                        weights[kept] = e[lane]
                        kept += 1
                    }
                }
                i += 16
            }
            total += Double(VectorExp.laneSum(sum))
            start += block
        }
        return (kept, total)
    }

    /// Sums `weights` block by block into `blockSums`; returns the total.
    static func sumBlocks(_ weights: UnsafePointer<Float>, _ count: Int, into blockSums: UnsafeMutablePointer<Float>) -> Double {
        var total: Double = 0
        var start = 0, b = 0
        while start < count {
            var sum: Float = 0
            for i in start..<min(count, start + block) { sum += weights[i] }
            blockSums[b] = sum
            total += Double(sum)
            start += block
            b += 1
        }
        return total
    }

    /// The position a draw lands on: the first whose running sum of `weights` passes `target` (blocks skipped by
    /// their sums); past the end (rounding), the last with a positive weight. Nil when every weight is 0.
    static func find(_ target: Double, _ weights: UnsafePointer<Float>, _ count: Int, _ blockSums: UnsafePointer<Float>) -> Int? {
        var running: Double = 0
        var start = 0, b = 0
        while start < count {
            let sum = Double(blockSums[b])
            if sum > 0, running + sum > target {
                var inside = running, last = -1
                for i in start..<min(count, start + block) where weights[i] > 0 {
                    inside += Double(weights[i])
                    last = i
                    if inside > target { return i }
                }
                if last >= 0 { return last }
            }
            running += sum
            start += block
            b += 1
        }
        var i = count - 1
        while i >= 0, !(weights[i] > 0) { i -= 1 }
        return i >= 0 ? i : nil
    }

    /// Sets the weight at `position` to 0 and its block's sum anew.
    static func remove(_ position: Int, _ weights: UnsafeMutablePointer<Float>, _ count: Int, _ blockSums: UnsafeMutablePointer<Float>) {
        weights[position] = 0
        let start = position / block * block
        var sum: Float = 0
        for i in start..<min(count, start + block) { sum += weights[i] }
        blockSums[position / block] = sum
    }

    /// Whether token `a` ranks before token `b`: a higher logit, or the same and a lower id (the reference's order).
    @inline(__always)
    static func ranksBefore(_ x: UnsafePointer<Float>, _ a: Int32, _ b: Int32) -> Bool {
        let xa = x[Int(a)], xb = x[Int(b)]
        return xa > xb || (xa == xb && a < b)
    }

    /// The `k` (0 < k < count) most likely tokens into `heap[0..<k]`, in heap order (the least likely at 0).
    static func selectBest(_ x: UnsafePointer<Float>, _ count: Int, _ k: Int, into heap: UnsafeMutablePointer<Int32>) {
        for i in 0..<k { heap[i] = Int32(i) }
        let worse = { (a: Int32, b: Int32) in ranksBefore(x, b, a) }
        for i in stride(from: k / 2 - 1, through: 0, by: -1) { siftDown(heap, k, i, worse) }
        for i in k..<count where x[i] > x[Int(heap[0])] {
            // a later id with an equal logit ranks after every kept one
            heap[0] = Int32(i)
            siftDown(heap, k, 0, worse)
        }
    }

    /// Moves `heap[start]` down until `above` holds between every parent and child.
    @inline(__always)
    static func siftDown(_ heap: UnsafeMutablePointer<Int32>, _ count: Int, _ start: Int, _ above: (Int32, Int32) -> Bool) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var top = parent
            if left < count, above(heap[left], heap[top]) { top = left }
            if right < count, above(heap[right], heap[top]) { top = right }
            guard top != parent else { return }
            (heap[parent], heap[top]) = (heap[top], heap[parent])
            parent = top
        }
    }

    /// Arranges `heap[0..<count]` so that `above` holds between every parent and child.
    static func heapify(_ heap: UnsafeMutablePointer<Int32>, _ count: Int, _ above: (Int32, Int32) -> Bool) {
        for i in stride(from: count / 2 - 1, through: 0, by: -1) { siftDown(heap, count, i, above) }
    }

    /// Removes and returns the root of `heap[0..<count]`; `count` shrinks by one.
    static func pop(_ heap: UnsafeMutablePointer<Int32>, _ count: inout Int, _ above: (Int32, Int32) -> Bool) -> Int32 {
        let root = heap[0]
        count -= 1
        heap[0] = heap[count]
        siftDown(heap, count, 0, above)
        return root
    }

    /// Top-p by selection: reorders the pool (`tokens` with their `weights`) so that its first positions are the
    /// smallest set of most likely tokens whose weights reach `mass`, and returns their number (all of them when
    /// the pool holds less). The kept ones are the reference's sorted prefix, in no particular order.
    static func nucleus(_ x: UnsafePointer<Float>, _ tokens: UnsafeMutablePointer<Int32>, _ weights: UnsafeMutablePointer<Float>,
                        _ count: Int, mass: Double) -> Int {
        func before(_ a: Int, _ b: Int) -> Bool { ranksBefore(x, tokens[a], tokens[b]) }
        func swap(_ a: Int, _ b: Int) {
            (tokens[a], tokens[b]) = (tokens[b], tokens[a])
            (weights[a], weights[b]) = (weights[b], weights[a])
        }
        var low = 0, high = count, need = mass
        while high - low > 16 {
            // median of three as the pivot, at high - 1
            let middle = (low + high) / 2, last = high - 1
            if before(middle, low) { swap(middle, low) }
            if before(last, low) { swap(last, low) }
            if before(middle, last) { swap(middle, last) }
            var store = low
            var better: Double = 0
            for j in low..<last where before(j, last) {
                swap(store, j)
                better += Double(weights[store])
                store += 1
            }
            swap(store, last)
            let withPivot = better + Double(weights[store])
            if better >= need {
                high = store
            } else if withPivot >= need {
                return store + 1
            } else {
                need -= withPivot
                low = store + 1
            }
        }
        // the few left: in order, by insertion
        if low < high {
            for i in (low + 1)..<high {
                var j = i
                while j > low, before(j, j - 1) {
                    swap(j, j - 1)
                    j -= 1
                }
            }
        }
        for i in low..<high {
            need -= Double(weights[i])
            if need <= 0 { return i + 1 }
        }
        return high
    }
}
