import Foundation
import GGUF
import Testing
@testable import InferenceEngine

/// The quantised matrix-vector products against ggml's own kernels, bit for bit, on random rows
/// (Fixtures/kernels/dots.json, recorded by scripts/make_kernel_fixtures.py from the libggml-cpu llama-cpp-python builds
/// on this machine). Bit-identical products are what keep a real model's greedy continuation identical to
/// llama.cpp's: a last-bit difference moves an activation across a Q8 rounding step now and then, and the text apart.
@Suite("kernels against ggml")
struct KernelFixtureTests {
    struct Case: Decodable {
        let type: String
        let weights: String
        let activations: String
        let resultBits: [UInt32]
        let interleavedBits: [UInt32]?
    }

    struct Fixture: Decodable {
        let columns: Int
        let cases: [Case]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/kernels/dots.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    /// The types whose kernels follow ggml's summation order exactly, and which of ggml's results each must equal:
    /// llama.cpp repacks Q4_K and Q4_0 matrices of a multiple of 8 rows on x86 and multiplies them with its
    /// interleaved kernels; the others equal ggml's `vec_dot`.
    static let exact: [(String, TensorType)] = [("Q8_0", .q8_0), ("Q4_0", .q4_0), ("Q5_0", .q5_0), ("Q4_1", .q4_1), ("Q5_1", .q5_1), ("Q6_K", .q6_K), ("Q4_K", .q4_K)]

    /// Our product of the case's first `rows` rows (of 8) with its activation row, repeated `batch` times (tiles of
    /// four or two rows by four tokens, single rows and single tokens), as the model computes it.
    static func products(_ item: Case, _ type: TensorType, batch: Int, rows: Int = 8, kernels: KernelSet = .portable,
                         threads: Int = 2) throws -> [[UInt32]] {
        let weights = Data(base64Encoded: item.weights)!, x = Data(base64Encoded: item.activations)!
        let columns = fixture.columns
        let input = (0..<batch).flatMap { _ in x.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }
        var output = [Float](repeating: .nan, count: rows * batch)
        try weights.withUnsafeBytes { raw in
            let data = UnsafeRawBufferPointer(rebasing: raw[..<(raw.count / 8 * rows)])
            let matrix = try WeightMatrix(name: "w", type: type, rows: rows, columns: columns, data: data, kernels: kernels)
            input.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { matrix.multiply(input.baseAddress!, batch: batch, into: $0.baseAddress!, workers: Workers(threads: threads)) }
            }
        }
        return (0..<batch).map { t in output[(t * rows)..<(t * rows + rows)].map(\.bitPattern) }
    }

    /// Every exact type's products on `kernels`, against ggml's: one token (rows in pairs), six (a tile of four
    /// tokens, then two alone), nineteen (four quads, then three alone) and seventy (on one thread a chunk of 64
    /// tokens, then a second of six; on two, so few rows that the threads cut the tokens into parts too), of 8 rows
    /// (each thread's four in one tile) and of 7 (a thread's share then ends on a single row, after a tile of four or
    /// of two).
    static func checkBitIdentical(_ name: String, _ type: TensorType, kernels: KernelSet) throws {
        let cases = Self.fixture.cases.filter { $0.type == name }
        #expect(cases.count >= 4)
        for (index, item) in cases.enumerated() {
            for rows in [8, 7] {
                // llama.cpp multiplies Q4_0 matrices of a multiple of 8 rows with its interleaved kernel, others with
                // `vec_dot`, and so do we; our Q4_K kernels follow its interleaved one at any row count
                let expected = (rows % 8 == 0 || type == .q4_K ? item.interleavedBits : nil) ?? item.resultBits
                for (batch, threads) in [(1, 2), (6, 2), (19, 2), (70, 1), (70, 2)] {
                    for (token, bits) in try Self.products(item, type, batch: batch, rows: rows, kernels: kernels, threads: threads).enumerated() {
                        let differing = zip(bits, expected).filter { $0 != $1 }.count
                        #expect(differing == 0, "\(kernels) \(name) case \(index), \(rows) rows, token \(token) of \(batch) on \(threads) threads: \(differing) rows differ from ggml, e.g. \(Float(bitPattern: bits[0])) vs \(Float(bitPattern: expected[0]))")
                    }
                }
            }
        }
    }

    @Test("portable kernels equal to ggml's products to the bit, alone and in a batch", arguments: exact)
    func portable(_ name: String, _ type: TensorType) throws { try Self.checkBitIdentical(name, type, kernels: .portable) }

    @Test("AVX2 kernels equal to ggml's products to the bit", .enabled(if: KernelSet.avx2.isAvailable, "this CPU has no AVX2: the AVX2 kernels are not tested here"), arguments: exact)
    func avx2(_ name: String, _ type: TensorType) throws { try Self.checkBitIdentical(name, type, kernels: .avx2) }

    @Test("AVX-512 kernels equal to ggml's products to the bit", .enabled(if: KernelSet.avx512.isAvailable, "this CPU has no AVX-512 VNNI: the AVX-512 kernels are not tested here"), arguments: exact)
    func avx512(_ name: String, _ type: TensorType) throws { try Self.checkBitIdentical(name, type, kernels: .avx512) }

    /// Rows from three cases (24 rows, or 22, whose last two leave the 512-bit tiles), each token of a batch against
    /// another case's activations: every token's products equal that token's alone, and the first eight rows' equal
    /// ggml's. On AVX-512 the prompt tiles take Q4_K and Q4_0 two interleaved groups (16 rows; the third group of 24
    /// goes alone) to a 512-bit vector, and Q8_0, Q5_0 and a Q4_0 matrix that is not interleaved (22 rows) two rows;
    /// one token alone goes row pair by row pair or group by group.
    @Test("AVX-512 prompt tiles equal to one token at a time, to the bit, with every token different",
          .enabled(if: KernelSet.avx512.isAvailable, "this CPU has no AVX-512 VNNI: the AVX-512 kernels are not tested here"),
          arguments: [("Q4_K", TensorType.q4_K, 24), ("Q4_0", .q4_0, 24), ("Q4_0", .q4_0, 22), ("Q8_0", .q8_0, 24), ("Q8_0", .q8_0, 22),
                      ("Q5_0", .q5_0, 24), ("Q5_0", .q5_0, 22)])
    func promptTiles512(_ name: String, _ type: TensorType, rows: Int) throws {
        let cases = Self.fixture.cases.filter { $0.type == name }
        let rowBytes = Data(base64Encoded: cases[0].weights)!.count / 8
        let weights = cases.prefix(3).reduce(Data()) { $0 + Data(base64Encoded: $1.weights)! }.prefix(rows * rowBytes)
        let activations = cases.map { Data(base64Encoded: $0.activations)!.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }
        func products(_ tokens: [[Float]]) throws -> [[UInt32]] {
            let input = tokens.flatMap { $0 }
            var output = [Float](repeating: .nan, count: rows * tokens.count)
            try weights.withUnsafeBytes { raw in
                let matrix = try WeightMatrix(name: "w", type: type, rows: rows, columns: Self.fixture.columns, data: raw, kernels: .avx512)
                input.withUnsafeBufferPointer { input in
                    output.withUnsafeMutableBufferPointer { matrix.multiply(input.baseAddress!, batch: tokens.count, into: $0.baseAddress!, workers: Workers(threads: 1)) }
                }
            }
            return (0..<tokens.count).map { t in output[(t * rows)..<(t * rows + rows)].map(\.bitPattern) }
        }
        let alone = try activations.map { try products([$0])[0] }
        let ggml = type == .q4_K || (type == .q4_0 && rows % 8 == 0) ? cases[0].interleavedBits : cases[0].resultBits
        #expect(Array(alone[0].prefix(8)) == ggml)
        for batch in [4, 6, 19, 70] {
            let order = (0..<batch).map { ($0 * 3 + $0 / activations.count) % activations.count }
            for (token, bits) in try products(order.map { activations[$0] }).enumerated() {
                let expected = alone[order[token]]
                #expect(bits == expected, "\(name), batch \(batch), token \(token): \(zip(bits, expected).filter { $0 != $1 }.count) rows differ")
            }
        }
    }

    @Test("every other type within float rounding of ggml's products")
    func closeForOtherTypes() throws {
        let others: [(String, TensorType)] = [("Q2_K", .q2_K), ("Q3_K", .q3_K), ("Q5_K", .q5_K)]
        for (name, type) in others {
            for item in Self.fixture.cases where item.type == name {
                let ours = try Self.products(item, type, batch: 1)[0].map { Float(bitPattern: $0) }
                let scale = item.resultBits.map { abs(Float(bitPattern: $0)) }.max()!
                for (value, bits) in zip(ours, item.resultBits) {
                    #expect(abs(value - Float(bitPattern: bits)) <= 1e-5 * max(1, scale), "\(name): \(value) vs \(Float(bitPattern: bits))")
                }
            }
        }
    }
}

@Suite("threads over rows and tokens")
struct TokenPartTests {
    @Test("token parts cover the batch once, cut on quads, sixteen tokens or more each, only where rows run short",
          arguments: [1, 2, 8, 64])
    func parts(_ threads: Int) {
        for rows in [8, 64, 256, 2_048, 32_000] {
            for batch in 1...70 {
                let parts = WeightMatrix.tokenParts(rows: rows, batch: batch, threads: threads)
                let ranges = (0..<parts).map { WeightMatrix.tokenRange($0, of: parts, batch: batch) }
                #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == batch)
                #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && $0.upperBound % 4 == 0 })
                if parts > 1 {
                    #expect(ranges.allSatisfy { $0.count >= 16 }, "\(rows) rows, \(batch) tokens, \(threads) threads: \(ranges)")
                    #expect(rows < threads * 4 * WeightMatrix.rowsPerShare)
                }
            }
        }
        // a 256-row matrix (TinyLlama's keys) on 64 threads is cut into four parts of a 64-token pass; on 2, not at all
        #expect(WeightMatrix.tokenParts(rows: 256, batch: 64, threads: 64) == 4)
        #expect(WeightMatrix.tokenParts(rows: 256, batch: 64, threads: 2) == 1)
    }
}
