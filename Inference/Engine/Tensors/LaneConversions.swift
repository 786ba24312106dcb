// Lane-type conversions for the kernels. The standard library's converting initialisers
// (`SIMD16<Int32>(truncatingIfNeeded:)`, `SIMD16<Float>(_:)`) stay out-of-line generic calls that convert one lane
// at a time; these fixed-count loops inline, and LLVM turns each into one or two vector instructions
// (vpmovsxbw, vpmovzxbw, vpmovsxwd, vcvtdq2ps, vcvtph2ps).

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

@inline(__always)
func int32Lanes(_ v: SIMD16<Int16>) -> SIMD16<Int32> {
    var r = SIMD16<Int32>()
    for i in 0..<16 { r[i] = Int32(v[i]) }
    return r
}

@inline(__always)
func floatLanes(_ v: SIMD16<Int32>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(v[i]) }
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

/// The sum of the lanes (wrapping), as a reduction LLVM vectorises.
@inline(__always)
func laneSum(_ v: SIMD16<Int32>) -> Int32 {
    var total: Int32 = 0
    for i in 0..<16 { total &+= v[i] }
    return total
}
