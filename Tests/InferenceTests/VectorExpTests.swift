import Foundation
import Testing
@testable import InferenceEngine

/// ggml's vectorised exponential, reproduced: close to libm's `expf` everywhere, with its limits and NaN.
@Suite("vector exp")
struct VectorExpTests {
    @Test("within 2 ulps of expf from -103 to 88, every 1/64 (and its subnormals, and 0 below)")
    func closeToLibm() {
        var worst: Float = 0
        var x: Float = -103
        while x <= 88 {
            var lanes = VectorExp.Lanes()
            for lane in 0..<16 { lanes[lane] = x + Float(lane) / 1024 }
            let ours = VectorExp.exp(lanes)
            for lane in 0..<16 {
                let expected = expf(lanes[lane])
                let ulps = abs(ours[lane] - expected) / max(expected.ulp, Float.leastNonzeroMagnitude)
                worst = max(worst, ulps)
            }
            x += 1.0 / 64
        }
        #expect(worst <= 2, "largest difference \(worst) ulps")
    }

    @Test("limits: -∞ and far below give 0, +∞ and far above give +∞, NaN stays NaN")
    func limits() {
        var lanes = VectorExp.Lanes(repeating: 0)
        lanes[0] = -.infinity; lanes[1] = -200; lanes[2] = .infinity; lanes[3] = 200; lanes[4] = .nan
        let result = VectorExp.exp(lanes)
        #expect(result[0] == 0 && result[1] == 0)
        #expect(result[2] == .infinity && result[3] == .infinity)
        #expect(result[4].isNaN)
        #expect(result[5] == 1)
    }

    @Test("the lane sum adds halves, then quarters, then pairs, as _mm512_reduce_add_ps")
    func laneSum() {
        // 1 + 2^-24 sixteen times: added one by one in order the small terms vanish; pairwise they survive
        var lanes = VectorExp.Lanes(repeating: 0x1p-24)
        lanes[0] = 1
        let tree = ((lanes.lowHalf + lanes.highHalf).lowHalf + (lanes.lowHalf + lanes.highHalf).highHalf)
        let expected = (tree.lowHalf + tree.highHalf)[0] + (tree.lowHalf + tree.highHalf)[1]
        #expect(VectorExp.laneSum(lanes) == expected)
        #expect(VectorExp.laneSum(lanes) != (0..<16).reduce(Float(0)) { $0 + lanes[$1] })
    }

    @Test("swiglu is silu(gate) · up, within 2 ulps of libm's, for rows that are not whole lanes too")
    func swiglu() {
        for count in [16, 37, 64] {
            let gate = (0..<count).map { Float($0) * 0.37 - 6 }, up = (0..<count).map { Float($0 % 5) - 2 }
            var out = gate
            out.withUnsafeMutableBufferPointer { g in up.withUnsafeBufferPointer { VectorExp.swiglu(g.baseAddress!, $0.baseAddress!, count: count) } }
            for i in 0..<count {
                let expected = gate[i] / (1 + expf(-gate[i])) * up[i]
                #expect(abs(out[i] - expected) <= 4 * max(expected.magnitude.ulp, .leastNormalMagnitude), "count \(count), \(i)")
            }
        }
    }
}
