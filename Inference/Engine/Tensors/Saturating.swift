/// Float-to-integer conversion for quantisers, which never traps: a model's numbers may hold NaN, infinities or
/// values far outside int8 (a corrupted or badly converted file), and the server must go on running as llama.cpp
/// does rather than die.
enum Saturating {
    /// `value` rounded half to even into int8 as ggml's x86 kernels produce it: `cvtps_epi32` turns NaN and anything
    /// beyond int32 into the "integer indefinite" INT32_MIN, and the saturating packs that follow clamp to int8, so
    /// those become -128 and finite values outside the range become -128 or 127.
    @inline(__always)
    static func int8(_ value: Float) -> Int8 {
        let rounded = value.rounded(.toNearestOrEven)
        guard rounded >= -2_147_483_648, rounded < 2_147_483_648 else { return -128 }
        return Int8(max(-128, min(127, rounded)))
    }
}
