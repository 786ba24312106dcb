import GGUF
/// The form an activation row takes before it meets a weight row (ggml's `vec_dot_type`): float weights meet
/// activations rounded to their own type; quantised weights meet activations quantised to Q8_0 or Q8_K (both kept
/// widened to int16, see `QuantizedDot.widenQ8_0`), which lets the inner loop multiply integers.
public enum ActivationFormat: Sendable {
    case f32, f16, bf16, q8_0, q8_K

    /// The format that a weight type's dot product takes its activations in.
    public init?(weights: TensorType) {
        switch weights {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        case .q8_0, .q4_0, .q5_0, .q4_1, .q5_1: self = .q8_0
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: self = .q8_K
        default: return nil
        }
    }

    /// Bytes of one row of `columns` activations in this format.
    public func rowBytes(_ columns: Int) -> Int {
        switch self {
        case .f32: columns * 4
        case .f16, .bf16: columns * 2
        case .q8_0: QuantizedDot.widenedQ8_0Bytes(blocks: columns / 32)
        case .q8_K: KQuantDot.widenedQ8_KBytes(blocks: columns / 256)
        }
    }

    /// Converts one row of activations into this format at `out`.
    public func convert(_ row: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawPointer) {
        let bytes = UnsafeMutableRawBufferPointer(start: out, count: rowBytes(row.count))
        switch self {
        case .f32:
            bytes.copyMemory(from: UnsafeRawBufferPointer(row))
        case .f16:
            for (index, value) in row.enumerated() { bytes.storeBytes(of: Float16(value), toByteOffset: index * 2, as: Float16.self) }
        case .bf16:
            for (index, value) in row.enumerated() { bytes.storeBytes(of: FloatDot.bfloatBits(value), toByteOffset: index * 2, as: UInt16.self) }
        case .q8_0:
            QuantizedDot.widenQ8_0(row, into: bytes)
        case .q8_K:
            KQuantDot.widenQ8_K(row, into: bytes)
        }
    }
}
