import Foundation
import GGUF
import Testing
@testable import InferenceEngine

/// The SIMD dot-product kernels against their scalar forms on random data, and Q8_0 quantisation against the
/// dequantised float dot product it approximates.
@Suite("quantised dot products")
struct QuantizedDotTests {
    static func randomFloats(_ count: Int, _ generator: inout some RandomNumberGenerator) -> [Float] {
        (0..<count).map { _ in Float.random(in: -2...2, using: &generator) }
    }

    /// Activations both as Q8_0 blocks (for the scalar forms) and widened (for the SIMD forms).
    static func activations(_ values: [Float]) -> (q8_0: [UInt8], widened: [UInt8]) {
        var widened = [UInt8](repeating: 0, count: QuantizedDot.widenedQ8_0Bytes(blocks: values.count / 32))
        values.withUnsafeBufferPointer { v in widened.withUnsafeMutableBytes { QuantizedDot.widenQ8_0(v, into: $0) } }
        return (values.withUnsafeBufferPointer { QuantizedDot.quantizeQ8_0($0) }, widened)
    }

    @Test("SIMD equals scalar up to float summation order, on random rows", arguments: [1, 3, 7, 64])
    func simdEqualsScalar(_ blocks: Int) {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let a = Self.randomFloats(blocks * 32, &generator).withUnsafeBufferPointer { QuantizedDot.quantizeQ8_0($0) }
            let (b, wide) = Self.activations(Self.randomFloats(blocks * 32, &generator))
            var q4 = [UInt8](repeating: 0, count: blocks * 18)
            for index in q4.indices { q4[index] = UInt8.random(in: 0...255, using: &generator) }
            for block in 0..<blocks {  // finite f16 scales
                let bits = Float16(Float.random(in: -0.1...0.1, using: &generator)).bitPattern
                q4[block * 18] = UInt8(bits & 0xFF)
                q4[block * 18 + 1] = UInt8(bits >> 8)
            }
            a.withUnsafeBytes { a in
                b.withUnsafeBytes { b in
                    wide.withUnsafeBytes { wide in
                        let (a, b, wide) = (a.baseAddress!, b.baseAddress!, wide.baseAddress!)
                        // the same integer products and scales, summed in eight float lanes instead of block by block
                        let q8 = QuantizedDot.q8_0Scalar(a, b, blocks: blocks), q8SIMD = QuantizedDot.q8_0(a, wide, blocks: blocks)
                        // Q8_0's SIMD form sums unsigned weights and takes 128·Σy off at the end: more cancellation
                        #expect(abs(q8SIMD - q8) <= 2e-5 * Float(blocks) * max(1, abs(q8)), "Q8_0: \(q8SIMD) vs \(q8)")
                        q4.withUnsafeBytes { q4 in
                            let q4 = q4.baseAddress!
                            let q4Scalar = QuantizedDot.q4_0Scalar(q4, b, blocks: blocks), q4SIMD = QuantizedDot.q4_0(q4, wide, blocks: blocks)
                            #expect(abs(q4SIMD - q4Scalar) <= 2e-6 * Float(blocks) * max(1, abs(q4Scalar)), "Q4_0: \(q4SIMD) vs \(q4Scalar)")
                        }
                    }
                }
            }
        }
    }

    @Test("one row against four tokens at once gives, bit for bit, what each token gives alone", arguments: [1, 5, 64])
    func fourTokens(_ blocks: Int) {
        var generator = SystemRandomNumberGenerator()
        let q8 = Self.randomFloats(blocks * 32, &generator).withUnsafeBufferPointer { QuantizedDot.quantizeQ8_0($0) }
        var q4 = (0..<(blocks * 18)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for block in 0..<blocks {
            let bits = Float16(Float.random(in: -0.1...0.1, using: &generator)).bitPattern
            q4[block * 18] = UInt8(bits & 0xFF)
            q4[block * 18 + 1] = UInt8(bits >> 8)
        }
        let rows = (0..<4).map { _ in Self.activations(Self.randomFloats(blocks * 32, &generator)).widened }
        let stride = rows[0].count
        let packed = rows.flatMap { $0 }
        packed.withUnsafeBytes { p in
            let four = FourRows(p.baseAddress!, stride: stride)
            q8.withUnsafeBytes { w in
                let alone = SIMD4<Float>((0..<4).map { QuantizedDot.q8_0(w.baseAddress!, four[$0], blocks: blocks) })
                #expect(QuantizedDot.q8_0(w.baseAddress!, four, blocks: blocks) == alone)
            }
            q4.withUnsafeBytes { w in
                let alone = SIMD4<Float>((0..<4).map { QuantizedDot.q4_0(w.baseAddress!, four[$0], blocks: blocks) })
                #expect(QuantizedDot.q4_0(w.baseAddress!, four, blocks: blocks) == alone)
            }
        }
    }

    @Test("the widened form holds exactly the Q8_0 values and scales")
    func widenedForm() {
        var generator = SystemRandomNumberGenerator()
        let (q8, wide) = Self.activations(Self.randomFloats(96, &generator))
        for block in 0..<3 {
            for j in 0..<32 {
                let widened = wide.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: block * 64 + j * 2, as: Int16.self) }
                #expect(widened == Int16(Int8(bitPattern: q8[block * 34 + 2 + j])))
            }
            let scale = wide.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 3 * 64 + block * 4, as: Float.self) }
            #expect(scale == q8.withUnsafeBytes { Dequantize.half($0, block * 34) })
        }
    }

    @Test("Q8_0 quantisation keeps the dot product within its rounding error")
    func quantizationError() throws {
        var generator = SystemRandomNumberGenerator()
        let x = Self.randomFloats(256, &generator), y = Self.randomFloats(256, &generator)
        let exact = zip(x, y).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        let a = x.withUnsafeBufferPointer { QuantizedDot.quantizeQ8_0($0) }
        let b = Self.activations(y).widened
        var back = [Float](repeating: 0, count: 256)
        try a.withUnsafeBytes { bytes in try back.withUnsafeMutableBufferPointer { try Dequantize.run(.q8_0, bytes, into: $0) } }
        #expect(zip(back, x).allSatisfy { abs($0 - $1) <= 2.0 / 127 * 0.51 + 1e-3 }, "each value within half a step")
        let approximate = a.withUnsafeBytes { a in b.withUnsafeBytes { b in QuantizedDot.q8_0(a.baseAddress!, b.baseAddress!, blocks: 8) } }
        #expect(abs(approximate - exact) < 0.05 * max(1, abs(exact)) + 0.5, "\(approximate) vs \(exact)")
    }

    /// Random K-quant blocks with finite, modest f16 scales at the given byte offsets of each block.
    static func randomBlocks(_ blocks: Int, size: Int, scaleOffsets: [Int], _ generator: inout some RandomNumberGenerator) -> [UInt8] {
        var bytes = (0..<(blocks * size)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for block in 0..<blocks {
            for offset in scaleOffsets {
                let bits = Float16(Float.random(in: -0.05...0.05, using: &generator)).bitPattern
                bytes[block * size + offset] = UInt8(bits & 0xFF)
                bytes[block * size + offset + 1] = UInt8(bits >> 8)
            }
        }
        return bytes
    }

    @Test("K-quant SIMD equals scalar up to summation order, and both the dequantised dot product up to Q8_K rounding", arguments: [1, 4, 11])
    func kQuants(_ blocks: Int) throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10 {
            let x = Self.randomFloats(blocks * 256, &generator)
            var activations = [UInt8](repeating: 0, count: blocks * KQuantDot.q8KBlockBytes)
            x.withUnsafeBufferPointer { x in activations.withUnsafeMutableBytes { KQuantDot.quantizeQ8_K(x, into: $0) } }
            var widened = [UInt8](repeating: 0, count: KQuantDot.widenedQ8_KBytes(blocks: blocks))
            x.withUnsafeBufferPointer { x in widened.withUnsafeMutableBytes { KQuantDot.widenQ8_K(x, into: $0) } }
            for (type, size, offsets) in [(TensorType.q2_K, 84, [80, 82]), (.q3_K, 110, [108]), (.q4_K, 144, [0, 2]), (.q5_K, 176, [0, 2]),
                                          (.q6_K, 210, [208])] {
                let weights = Self.randomBlocks(blocks, size: size, scaleOffsets: offsets, &generator)
                var dequantised = [Float](repeating: 0, count: blocks * 256)
                try weights.withUnsafeBytes { w in try dequantised.withUnsafeMutableBufferPointer { try Dequantize.run(type, w, into: $0) } }
                let exact = zip(dequantised, x).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                let magnitude = zip(dequantised, x).reduce(Float(0)) { $0 + abs($1.0 * $1.1) }
                weights.withUnsafeBytes { w in
                    activations.withUnsafeBytes { a in
                        widened.withUnsafeBytes { wide in
                        let (w, a, wide) = (w.baseAddress!, a.baseAddress!, wide.baseAddress!)
                        let scalar = switch type {
                        case .q2_K: KQuantDot.q2KScalar(w, a, blocks: blocks)
                        case .q3_K: KQuantDot.q3KScalar(w, a, blocks: blocks)
                        case .q4_K: KQuantDot.q4KScalar(w, a, blocks: blocks)
                        case .q5_K: KQuantDot.q5KScalar(w, a, blocks: blocks)
                        default: KQuantDot.q6KScalar(w, a, blocks: blocks)
                        }
                        let simd = switch type {
                        case .q2_K: KQuantDot.q2K(w, wide, blocks: blocks)
                        case .q3_K: KQuantDot.q3K(w, wide, blocks: blocks)
                        case .q4_K: KQuantDot.q4K(w, wide, blocks: blocks)
                        case .q5_K: KQuantDot.q5K(w, wide, blocks: blocks)
                        default: KQuantDot.q6K(w, wide, blocks: blocks)
                        }
                        // the same integer products, summed in eight lanes and scaled per block rather than per sub-block
                        #expect(abs(simd - scalar) <= 1e-5 * Float(blocks) * max(1, magnitude), "\(type.name): \(simd) vs \(scalar)")
                        // Q8_K keeps each activation within half a step of 2/127: a relative error of about 1/254 per term
                        #expect(abs(scalar - exact) <= magnitude / 100 + 1e-4, "\(type.name): \(scalar) vs \(exact)")
                        }
                    }
                }
            }
        }
    }

    @Test("K-quant rows against four tokens at once give, bit for bit, what each token gives alone", arguments: [1, 3])
    func kQuantFourTokens(_ blocks: Int) {
        var generator = SystemRandomNumberGenerator()
        let rows = (0..<4).map { _ in
            var widened = [UInt8](repeating: 0, count: KQuantDot.widenedQ8_KBytes(blocks: blocks))
            Self.randomFloats(blocks * 256, &generator).withUnsafeBufferPointer { x in widened.withUnsafeMutableBytes { KQuantDot.widenQ8_K(x, into: $0) } }
            return widened
        }
        let packed = rows.flatMap { $0 }
        let q4K = Self.randomBlocks(blocks, size: 144, scaleOffsets: [0, 2], &generator)
        let q6K = Self.randomBlocks(blocks, size: 210, scaleOffsets: [208], &generator)
        packed.withUnsafeBytes { p in
            let four = FourRows(p.baseAddress!, stride: rows[0].count)
            q4K.withUnsafeBytes { w in
                #expect(KQuantDot.q4K(w.baseAddress!, four, blocks: blocks) == SIMD4((0..<4).map { KQuantDot.q4K(w.baseAddress!, four[$0], blocks: blocks) }))
            }
            q6K.withUnsafeBytes { w in
                #expect(KQuantDot.q6K(w.baseAddress!, four, blocks: blocks) == SIMD4((0..<4).map { KQuantDot.q6K(w.baseAddress!, four[$0], blocks: blocks) }))
            }
        }
    }

    @Test("float dot products: F16 and BF16 rows against F32 on the same values")
    func floatDots() {
        var generator = SystemRandomNumberGenerator()
        for count in [1, 15, 16, 33, 256, 1000] {
            let w = Self.randomFloats(count, &generator).map { Float(Float16($0)) }
            let x = Self.randomFloats(count, &generator).map { Float(Float16($0)) }
            let exact = zip(w, x).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            let f32 = w.withUnsafeBytes { w in x.withUnsafeBytes { x in FloatDot.f32(w.baseAddress!, x.baseAddress!, count: count) } }
            let wh = w.map { Float16($0) }, xh = x.map { Float16($0) }
            let f16 = wh.withUnsafeBytes { w in xh.withUnsafeBytes { x in FloatDot.f16(w.baseAddress!, x.baseAddress!, count: count) } }
            let wb = w.map(FloatDot.bfloatBits), xb = x.map(FloatDot.bfloatBits)
            let bf16 = wb.withUnsafeBytes { w in xb.withUnsafeBytes { x in FloatDot.bf16(w.baseAddress!, x.baseAddress!, count: count) } }
            let scale = Float(count).squareRoot() * 4
            #expect(abs(f32 - exact) <= 1e-5 * scale, "f32 \(count)")
            #expect(abs(f16 - exact) <= 1e-5 * scale, "f16 \(count): the values are exact in f16")
            #expect(abs(bf16 - exact) <= 0.02 * scale, "bf16 \(count)")
        }
    }
}

/// Matrices multiplied together over one input give what each gives alone, whether their activation formats agree
/// (one conversion, one parallel step) or not (one after the other).
@Suite("weight matrices")
struct WeightMatrixTests {
    /// A matrix over its own copy of the encoded values, which the caller deallocates after use (a matrix keeps a
    /// pointer, as it does into a model's mapping).
    static func matrix(_ name: String, _ type: TensorType, rows: Int, columns: Int, _ values: [Float]) throws -> (WeightMatrix, UnsafeMutableRawBufferPointer) {
        var bytes: [UInt8]
        switch type {
        case .f32: bytes = values.withUnsafeBytes { Array($0) }
        case .q8_0: bytes = values.withUnsafeBufferPointer { QuantizedDot.quantizeQ8_0($0) }
        default: bytes = values.map { Float16($0) }.withUnsafeBytes { Array($0) }
        }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 32)
        storage.copyBytes(from: bytes)
        return (try WeightMatrix(name: name, type: type, rows: rows, columns: columns, data: UnsafeRawBufferPointer(storage)), storage)
    }

    @Test("together equals apart, for shared and mixed activation formats", arguments: [[TensorType.q8_0, .q8_0, .q8_0], [.f32, .q8_0, .f16]])
    func together(_ types: [TensorType]) throws {
        var generator = SystemRandomNumberGenerator()
        let columns = 96, batch = 3, rowCounts = [5, 8, 3]  // 3 blocks: the scales' 8-lane tail
        var storage: [UnsafeMutableRawBufferPointer] = []
        defer { storage.forEach { $0.deallocate() } }
        var matrices: [WeightMatrix] = []
        for (index, type) in types.enumerated() {
            let values = (0..<(rowCounts[index] * columns)).map { _ in Float.random(in: -1...1, using: &generator) }
            let (matrix, bytes) = try Self.matrix("m\(index)", type, rows: rowCounts[index], columns: columns, values)
            matrices.append(matrix)
            storage.append(bytes)
        }
        let input = (0..<(batch * columns)).map { _ in Float.random(in: -1...1, using: &generator) }
        var apart = rowCounts.map { [Float](repeating: 0, count: batch * $0) }
        var t0 = [Float](repeating: .nan, count: batch * rowCounts[0]), t1 = [Float](repeating: .nan, count: batch * rowCounts[1])
        var t2 = [Float](repeating: .nan, count: batch * rowCounts[2])
        let workers = Workers(threads: 2)
        input.withUnsafeBufferPointer { x in
            for index in matrices.indices {
                apart[index].withUnsafeMutableBufferPointer { matrices[index].multiply(x.baseAddress!, batch: batch, into: $0.baseAddress!, workers: workers) }
            }
            t0.withUnsafeMutableBufferPointer { o0 in
                t1.withUnsafeMutableBufferPointer { o1 in
                    t2.withUnsafeMutableBufferPointer { o2 in
                        WeightMatrix.multiply(matrices, x.baseAddress!, batch: batch,
                                              into: [o0.baseAddress!, o1.baseAddress!, o2.baseAddress!], workers: workers)
                    }
                }
            }
        }
        #expect([t0, t1, t2] == apart)
    }
}
