import Testing
@testable import InferenceEngine

/// The activation quantisers' sixteen-lane path against their one-value-at-a-time path, byte for byte, on rows
/// built to reach every rule: ties that round to even, the largest magnitude first, last or twice with both signs,
/// zeros, subnormals, the largest floats; and the widened Q8_0 layout against its definition.
@Suite("lane quantisers")
struct LaneQuantizerTests {
    /// Rows of 512 values (two Q8_K blocks, sixteen Q8_0 blocks), each built by one rule.
    static let rows: [(String, [Float])] = {
        var generator = SplitMix64(seed: 20261201)
        func random(_ range: ClosedRange<Float>) -> Float { Float.random(in: range, using: &generator) }
        var rows: [(String, [Float])] = []
        for scale: Float in [1e-30, 1e-3, 1, 1e3, 1e30] {
            rows.append(("uniform × \(scale)", (0..<512).map { _ in random(-1...1) * scale }))
        }
        // the largest magnitude 127 makes the scale 1 (Q8_0) or -1 (Q8_K, when it is -127), so k + 0.5 is a tie
        rows.append(("ties", (0..<512).map { i in i % 32 == 0 ? 127 : Float(i % 200 - 100) + 0.5 }))
        rows.append(("ties, negative maximum", (0..<512).map { i in i % 256 == 0 ? -127 : Float(i % 200 - 100) + 0.5 }))
        rows.append(("maximum last, both signs", (0..<512).map { i in i % 256 == 255 ? 3 : (i % 256 == 254 ? -3 : random(-2...2)) }))
        rows.append(("maximum twice, negative first", (0..<512).map { i in i % 256 == 7 ? -5 : (i % 256 == 9 ? 5 : random(-4...4)) }))
        rows.append(("zeros and one value", (0..<512).map { i in i == 300 ? 0.25 : 0 }))
        rows.append(("subnormals", (0..<512).map { _ in random(-1...1) * Float.leastNormalMagnitude }))
        rows.append(("largest floats", (0..<512).map { _ in random(-1...1) * Float.greatestFiniteMagnitude }))
        return rows
    }()

    @Test("Q8_0 and Q8_K: the lanes give the scalar bytes", arguments: rows.map(\.0))
    func lanesEqualScalar(_ name: String) {
        let values = Self.rows.first { $0.0 == name }!.1
        values.withUnsafeBufferPointer { x in
            var lanes = [UInt8](repeating: 0, count: 16 * 34), scalar = lanes
            lanes.withUnsafeMutableBytes { QuantizedDot.quantizeQ8_0(x, into: $0, lanes: true) }
            scalar.withUnsafeMutableBytes { QuantizedDot.quantizeQ8_0(x, into: $0, lanes: false) }
            #expect(lanes == scalar, "Q8_0, \(name)")
            var lanesK = [UInt8](repeating: 0, count: 2 * KQuantDot.q8KBlockBytes), scalarK = lanesK
            lanesK.withUnsafeMutableBytes { KQuantDot.quantizeQ8_K(x, into: $0, lanes: true) }
            scalarK.withUnsafeMutableBytes { KQuantDot.quantizeQ8_K(x, into: $0, lanes: false) }
            #expect(lanesK == scalarK, "Q8_K, \(name)")
        }
    }

    @Test("the widened Q8_0 form holds the values, the negated lane sums and the block sums")
    func widenedLayout() {
        let values = Self.rows[2].1, blocks = values.count / 32
        let q8 = values.withUnsafeBufferPointer { QuantizedDot.quantizeQ8_0($0) }
        var wide = [UInt8](repeating: 0, count: QuantizedDot.widenedQ8_0Bytes(blocks: blocks))
        values.withUnsafeBufferPointer { v in wide.withUnsafeMutableBytes { QuantizedDot.widenQ8_0(v, into: $0) } }
        wide.withUnsafeBytes { w in
            for block in 0..<blocks {
                let q = (0..<32).map { Int32(Int8(bitPattern: q8[block * 34 + 2 + $0])) }
                for j in 0..<32 {
                    #expect(Int32(w.load(fromByteOffset: block * 64 + j * 2, as: Int16.self)) == q[j])
                    #expect(Int32(w.load(fromByteOffset: blocks * 104 + block * 32 + j, as: Int8.self)) == q[j])
                }
                for lane in 0..<8 {
                    let sum = q[(lane * 4)..<(lane * 4 + 4)].reduce(0, +)
                    #expect(w.load(fromByteOffset: blocks * 72 + block * 32 + lane * 4, as: Int32.self) == -128 * sum)
                }
                #expect(w.load(fromByteOffset: blocks * 136 + block * 4, as: Int32.self) == q.reduce(0, +))
            }
        }
    }
}
