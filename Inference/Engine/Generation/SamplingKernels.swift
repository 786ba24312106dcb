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
    ///
    /// Blends, not `pointwiseMax` or mask arithmetic: those lower to per-lane code that made this pass 150 times
    /// slower (2 ms against 13 µs on 262,144 logits).
    static func maximum(_ x: UnsafePointer<Float>, _ count: Int) -> (value: Float, nonFinite: Bool) {
        var best = Lanes(repeating: -.infinity)
        var nan = Lanes()
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self)
            nan = nan.replacing(with: 1, where: v .!= v)
            best = best.replacing(with: v, where: v .> best)
            i += 16
        }
        var value = best.max()
        var nonFinite = nan.max() > 0
        while i < count {
            nonFinite = nonFinite || x[i].isNaN
            value = max(value, x[i])
            i += 1
        }
        return (value, nonFinite || value == .infinity)
    }

    /// `e^((x - maximum) · scale)` for lanes loaded from `x` (the tail padded with −∞), 0 below `floor`.
    @inline(__always)
    static func exponential(_ v: Lanes, _ maximum: Float, _ scale: Float) -> Lanes {
        let argument = (v - maximum) * scale
        let low = argument .< floor
        return VectorExp.exp(argument.replacing(with: floor, where: low)).replacing(with: 0, where: low)
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
        summed(count, into: blockSums) { i in
            let e = exponential(load(x, i, count), maximum, scale)
            if i + 16 <= count {
                UnsafeMutableRawPointer(weights + i).storeBytes(of: e, as: Lanes.self)
            } else {
                for lane in 0..<(count - i) { weights[i + lane] = e[lane] }
            }
            return e
        }
    }

    /// Walks `0..<count` sixteen tokens at a time, block by block: `step(i)` handles tokens `i..<i+16` (fewer at the
    /// end) and returns what they add to the sum. Each block's sum goes to `blockSums` when given; returns the total,
    /// in double precision.
    @inline(__always)
    static func summed(_ count: Int, into blockSums: UnsafeMutablePointer<Float>?, _ step: (Int) -> Lanes) -> Double {
        var total: Double = 0
        var start = 0, b = 0
        while start < count {
            var sum = Lanes()
            var i = start
            while i < min(count, start + block) {
                sum += step(i)
                i += 16
            }
            let blockSum = VectorExp.laneSum(sum)
            blockSums?[b] = blockSum
            total += Double(blockSum)
            start += block
            b += 1
        }
        return total
    }

    /// The sum of `e^(x - maximum)` over all tokens, in double precision (log-probabilities' denominator).
    static func exponentialSum(_ x: UnsafePointer<Float>, _ count: Int, maximum: Float) -> Double {
        summed(count, into: nil) { i in exponential(load(x, i, count), maximum, 1) }
    }

    /// Collects, in id order, the tokens whose `e^(x - maximum)` is positive and at least `threshold` into `tokens`,
    /// their weights into `weights`. Returns how many, and the sum of `e^(x - maximum)` over every token.
    static func collect(_ x: UnsafePointer<Float>, _ count: Int, maximum: Float, threshold: Float,
                        tokens: UnsafeMutablePointer<Int32>, weights: UnsafeMutablePointer<Float>) -> (count: Int, total: Double) {
        var kept = 0
        let total = summed(count, into: nil) { i in
            let e = exponential(load(x, i, count), maximum, 1)
            let passing = e.replacing(with: 0, where: e .< threshold)
            if passing.max() > 0 {
                for lane in 0..<min(16, count - i) where passing[lane] > 0 {
                    tokens[kept] = Int32(i + lane)
                    weights[kept] = passing[lane]
                    kept += 1
                }
            }
            return e
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

    /// Histogram bins top-p sorts the pool into, by logit below the maximum: 16,385 over the 87 units `floor` leaves
    /// (fine enough that the one bin sorted holds a few hundred tokens of a flat 262k vocabulary).
    static let bins = 16_385
    static let binsPerUnit = Float(bins - 1) / -floor

    /// The bin of `x` below `maximum` (every weight past `floor` in the last): rounded by adding 1.5 · 2^23, whose
    /// ulp is 1, and read from the float's low bits (a checked conversion made the histogram pass four times
    /// slower). Monotone: a likelier token is never in a later bin.
    @inline(__always)
    static func bin(_ x: Float, _ maximum: Float) -> Int {
        Int((min(maximum - x, -floor) * binsPerUnit + 0x1.8p23).bitPattern & 0x7FFF)
    }

    /// The first bin of `histogram` at which the running mass reaches `mass`, and the mass still needed there (`mass`
    /// less the bins before it); nil when the whole histogram holds less.
    static func binReaching(_ mass: Double, in histogram: UnsafeMutablePointer<Float>) -> (bin: Int, need: Double)? {
        var need = mass
        for b in 0..<bins {
            if Double(histogram[b]) >= need { return (b, need) }
            need -= Double(histogram[b])
        }
        return nil
    }

    /// Top-p over the whole vocabulary in place (`weights` per token id, as `exponentiate` wrote them): the tokens
    /// the cut drops get weight 0, in passes over the ids in order (a histogram of the mass by bin, then the
    /// zeroing), and only the bin where the mass is reached is sorted, its ids gathered into `scratch`.
    static func nucleusInPlace(_ x: UnsafePointer<Float>, _ maximum: Float, _ weights: UnsafeMutablePointer<Float>, _ count: Int,
                               mass: Double, histogram: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Int32>) {
        histogram.update(repeating: 0, count: bins)
        for i in 0..<count { histogram[bin(x[i], maximum)] += weights[i] }
        guard let (boundary, needed) = binReaching(mass, in: histogram) else { return }
        var need = needed
        var gathered = 0
        for i in 0..<count {
            let b = bin(x[i], maximum)
            if b == boundary {
                scratch[gathered] = Int32(i)
                gathered += 1
            }
            // a select, not a branch: which side of the boundary a token falls is a coin toss on a flat pool
            weights[i] = b > boundary ? 0 : weights[i]
        }
        var boundaryBin = UnsafeMutableBufferPointer(start: scratch, count: gathered)
        boundaryBin.sort { ranksBefore(x, $0, $1) }
        for token in boundaryBin {
            if need > 0 {
                need -= Double(weights[Int(token)])
            } else {
                weights[Int(token)] = 0
            }
        }
    }

    /// The weights still positive taken anew at `scale` (`e^((x - maximum) · scale)`), with their block sums;
    /// returns the total.
    static func rescale(_ x: UnsafePointer<Float>, _ count: Int, maximum: Float, scale: Float,
                        _ weights: UnsafeMutablePointer<Float>, blockSums: UnsafeMutablePointer<Float>) -> Double {
        summed(count, into: blockSums) { i in
            guard i + 16 <= count else {
                var tail = Lanes()
                for j in i..<count where weights[j] > 0 {
                    weights[j] = expf((x[j] - maximum) * scale)
                    tail[0] += weights[j]
                }
                return tail
            }
            let kept = UnsafeRawPointer(weights + i).loadUnaligned(as: Lanes.self)
            let e = exponential(UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self), maximum, scale).replacing(with: 0, where: kept .== 0)
            UnsafeMutableRawPointer(weights + i).storeBytes(of: e, as: Lanes.self)
            return e
        }
    }

    /// Top-p by selection: reorders the pool (`tokens` with their `weights`) so that its first positions are the
    /// smallest set of most likely tokens whose weights reach `mass`, and returns their number (all of them when
    /// the pool holds less). The kept ones are the reference's sorted prefix, in no particular order.
    ///
    /// One pass sums the weights into bins by logit (monotone: a likelier token is never in a later bin), which
    /// finds the bin where the mass is reached; a second moves the bins before it to the front and that bin after
    /// them, and only that bin is sorted (a flat pool's few hundred, not the vocabulary).
    static func nucleus(_ x: UnsafePointer<Float>, _ maximum: Float, _ tokens: UnsafeMutablePointer<Int32>,
                        _ weights: UnsafeMutablePointer<Float>, _ count: Int, mass: Double,
                        histogram: UnsafeMutablePointer<Float>) -> Int {
        @inline(__always) func bin(_ token: Int32) -> Int { SamplingKernels.bin(x[Int(token)], maximum) }
        @inline(__always) func swap(_ a: Int, _ b: Int) {
            (tokens[a], tokens[b]) = (tokens[b], tokens[a])
            (weights[a], weights[b]) = (weights[b], weights[a])
        }
        histogram.update(repeating: 0, count: bins)
        for j in 0..<count { histogram[bin(tokens[j])] += weights[j] }
        guard let (boundary, needed) = binReaching(mass, in: histogram) else { return count }
        var need = needed
        var front = 0
        for j in 0..<count where bin(tokens[j]) < boundary {
            swap(front, j)
            front += 1
        }
        var end = front
        for j in front..<count where bin(tokens[j]) == boundary {
            swap(end, j)
            end += 1
        }
        var boundaryBin = UnsafeMutableBufferPointer(start: tokens + front, count: end - front)
        boundaryBin.sort { ranksBefore(x, $0, $1) }
        for j in front..<end {
            weights[j] = expf(x[Int(tokens[j])] - maximum)
            need -= Double(weights[j])
            if need <= 0 { return j + 1 }
        }
        return end
    }
}
