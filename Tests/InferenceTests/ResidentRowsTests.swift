import Foundation
import GGUF
import Glibc
import Testing
@testable import InferenceEngine

/// Matrices read from a file mapping are copied into the kernels' own memory (2 MiB pages, or a kernel's layout) and
/// the file's pages given back: the products must be exactly those of the same rows used in place, and the file's
/// bytes must read the same afterwards (given-back pages of a read-only mapping come back from the file).
@Suite("weights copied out of the file mapping")
struct ResidentRowsTests {
    /// `rows` random rows of `type` in a temporary file, mapped read-only, and the same bytes in ordinary memory.
    static func mappedAndCopied(_ type: TensorType, rows: Int, columns: Int, seed: UInt64) throws -> (mapped: UnsafeRawBufferPointer, bytes: [UInt8]) {
        var generator = SplitMix64(seed: seed)
        let (elements, blockBytes) = type.block
        var bytes = (0..<(rows * columns / elements * blockBytes)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for block in stride(from: 0, to: bytes.count, by: blockBytes) {  // small finite f16 scales
            let bits = Float16(Float.random(in: -0.01...0.01, using: &generator)).bitPattern
            bytes[block] = UInt8(bits & 0xFF)
            bytes[block + 1] = UInt8(bits >> 8)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("resident-\(seed)-\(getpid()).bin").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let descriptor = open(path, O_RDONLY)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        let start = mmap(nil, bytes.count, PROT_READ, MAP_PRIVATE, descriptor, 0)
        #expect(start != MAP_FAILED)
        return (UnsafeRawBufferPointer(start: start, count: bytes.count), bytes)
    }

    @Test("Q8_0 copied into 2 MiB pages and Q4_0 repacked from a mapping give the in-place products, bit for bit",
          arguments: [(TensorType.q8_0, UInt64(1)), (.q4_0, 2)])
    func copiedEqualsInPlace(_ type: TensorType, _ seed: UInt64) throws {
        let rows = 2048, columns = 1024
        let (mapped, bytes) = try Self.mappedAndCopied(type, rows: rows, columns: columns, seed: seed)
        defer { munmap(UnsafeMutableRawPointer(mutating: mapped.baseAddress), mapped.count) }
        let fromFile = try WeightMatrix(name: "w", type: type, rows: rows, columns: columns, data: mapped, mapped: true)
        #expect(fromFile.repackedBytes >= mapped.count, "the rows were copied out of the mapping")
        try bytes.withUnsafeBytes { memory in
            // the same rows in ordinary memory: Q8_0 used in place, Q4_0 repacked as from the file (never given back)
            let inPlace = try WeightMatrix(name: "w", type: type, rows: rows, columns: columns, data: memory)
            #expect(type != .q8_0 || inPlace.repackedBytes == 0)
            var generator = SplitMix64(seed: seed + 10)
            for batch in [1, 5] {
                let input = (0..<(batch * columns)).map { _ in Float.random(in: -1...1, using: &generator) }
                var ours = [Float](repeating: .nan, count: batch * rows), reference = ours
                let workers = Workers(threads: 2)
                input.withUnsafeBufferPointer { x in
                    ours.withUnsafeMutableBufferPointer { fromFile.multiply(x.baseAddress!, batch: batch, into: $0.baseAddress!, workers: workers) }
                    reference.withUnsafeMutableBufferPointer { inPlace.multiply(x.baseAddress!, batch: batch, into: $0.baseAddress!, workers: workers) }
                }
                #expect(ours.map(\.bitPattern) == reference.map(\.bitPattern), "batch \(batch)")
            }
        }
        #expect(Array(mapped) == bytes, "the given-back pages read the file's bytes again")
    }
}

/// A model loaded from its file uses nothing in the mapping at run time but the rows of a token embedding it only
/// looks up: with the page cache in large folios one touch maps a whole folio, given-back pages of the matrices
/// around it included, so every vector and every matrix, however small, must be a copy.
@Suite("a loaded model out of its file")
struct LoadedOutOfFileTests {
    @Test("every tensor used at run time lies outside the mapping, but an untied token embedding",
          arguments: ["llama-q4_0.gguf", "llama-f16.gguf", "gemma3-q8_0.gguf", "gemma3-q4_k_m.gguf"])
    func outsideTheMapping(_ name: String) throws {
        let file = try GGUFFile.open(ModelFixtureTests.directory.appendingPathComponent(name).path)
        let weights = try ModelWeights(file, try ModelConfig(file))
        let mapping = UInt(bitPattern: file.data(file.tensors[0]).baseAddress!) - UInt(file.tensors[0].offset + file.dataOffset)
        let mappingEnd = mapping + UInt(file.tensors.map { file.dataOffset + $0.offset + $0.byteCount }.max()!)
        func inMapping(_ pointer: UnsafeRawPointer?) -> Bool {
            guard let pointer else { return false }
            return (mapping..<mappingEnd).contains(UInt(bitPattern: pointer))
        }
        func vector(_ v: UnsafeBufferPointer<Float>?) -> UnsafeRawPointer? { v?.baseAddress.map(UnsafeRawPointer.init) }
        // the rows a matrix's kernels read: its interleaved copy where it has one
        func rows(_ m: WeightMatrix) -> UnsafeRawPointer { (m.interleaved?.base).map(UnsafeRawPointer.init) ?? m.base }
        var used: [(String, UnsafeRawPointer?)] = [("output", rows(weights.output)), ("output_norm", vector(weights.outputNorm)),
                                                   ("rope_freqs", vector(weights.ropeFactors))]
        for (index, layer) in weights.layers.enumerated() {
            let matrices = [layer.query, layer.key, layer.value, layer.output, layer.gate, layer.up, layer.down]
            used += matrices.map { ($0.name, rows($0)) }
            let vectors = [layer.attentionNorm, layer.feedForwardNorm, layer.queryBias, layer.keyBias, layer.valueBias, layer.queryNorm,
                           layer.keyNorm, layer.postAttentionNorm, layer.postFeedForwardNorm]
            used += vectors.map { ("blk.\(index) vector", vector($0)) }
        }
        for (tensor, pointer) in used { #expect(!inMapping(pointer), "\(name): \(tensor) is used in place in the file mapping") }
        let tied = file.tensor("output.weight") == nil
        #expect(inMapping(weights.tokenEmbedding.base) == !tied, "\(name): the token embedding is \(tied ? "the output projection, streamed" : "only looked up")")
    }
}
