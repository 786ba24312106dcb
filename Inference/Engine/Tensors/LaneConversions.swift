// Lane-type conversions and integer multiply-adds for the kernels. The standard library's converting initialisers
// (`SIMD16<Int32>(truncatingIfNeeded:)`, `SIMD16<Float>(_:)`) stay out-of-line generic calls that convert one lane
// at a time; these fixed-count loops inline, and LLVM turns each into one or two vector instructions
// (vpmovsxbw, vpmovzxbw, vpmaddwd, vcvtph2ps).

@inline(__always)
func int16Lanes(_ v: SIMD16<Int8>) -> SIMD16<Int16> {
    var r = SIMD16<Int16>()
    for i in 0..<16 { r[i] = Int16(v[i]) }
    return r
}

@inline(__always)
func int16Lanes(_ v: SIMD16<UInt8>) -> SIMD16<Int16> {
    var r = SIMD16<Int16>()
    for i in 0..<16 { r[i] = Int16(v[i]) }
    return r
}

/// The low byte of each lane (values already within int8).
@inline(__always)
func int8Lanes(_ v: SIMD16<Int32>) -> SIMD16<Int8> {
    var r = SIMD16<Int8>()
    for i in 0..<16 { r[i] = Int8(truncatingIfNeeded: v[i]) }
    return r
}

@inline(__always)
func floatLanes(_ v: SIMD16<Float16>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(v[i]) }
    return r
}

@inline(__always)
func uint32Lanes(_ v: SIMD16<UInt16>) -> SIMD16<UInt32> {
    var r = SIMD16<UInt32>()
    for i in 0..<16 { r[i] = UInt32(v[i]) }
    return r
}

/// 16 bytes at `offset` of `p`, as int16 lanes.
@inline(__always)
func loadInt16Lanes(_ p: UnsafeRawPointer, _ offset: Int, signed: Bool) -> SIMD16<Int16> {
    signed ? int16Lanes(p.loadUnaligned(fromByteOffset: offset, as: SIMD16<Int8>.self))
        : int16Lanes(p.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self))
}

/// Products of int16 lanes with adjacent pairs added into int32 lanes: one `vpmaddwd`.
@inline(__always)
func multiplyAddPairs(_ a: SIMD16<Int16>, _ b: SIMD16<Int16>) -> SIMD8<Int32> {
    var r = SIMD8<Int32>()
    for i in 0..<8 { r[i] = Int32(a[2 * i]) &* Int32(b[2 * i]) &+ Int32(a[2 * i + 1]) &* Int32(b[2 * i + 1]) }
    return r
}

@inline(__always)
func floatLanes(_ v: SIMD8<Int32>) -> SIMD8<Float> {
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = Float(v[i]) }
    return r
}

@inline(__always)
func floatLanes(_ v: SIMD8<Float16>) -> SIMD8<Float> {
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = Float(v[i]) }
    return r
}

/// The eight int32 lanes ggml's int8 kernels hold for 32 values (`vpmaddubsw` then `vpmaddwd`, or `vpdpbusd`): lane j
/// is the sum of products 4j…4j+3. `low` and `high` are `multiplyAddPairs` of values 0-15 and 16-31, whose lanes hold
/// pairs; adjacent pairs are added. Integer sums are exact, so sums of several such vectors may be formed first.
@inline(__always)
func quadSums(_ low: SIMD8<Int32>, _ high: SIMD8<Int32>) -> SIMD8<Int32> {
    SIMD8(lowHalf: low.evenHalf &+ low.oddHalf, highHalf: high.evenHalf &+ high.oddHalf)
}

/// Eight float lanes summed as ggml's `hsum_float_8` sums them: the upper four onto the lower, lanes 2 and 3 onto 0
/// and 1, then lane 1 onto lane 0. Float addition is not associative, so the tree decides the last bits.
@inline(__always)
func ggmlSum(_ v: SIMD8<Float>) -> Float {
    let four = v.highHalf + v.lowHalf
    let two = four.highHalf + four.lowHalf
    return two[0] + two[1]
}
