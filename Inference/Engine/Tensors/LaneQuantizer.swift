/// The arithmetic of ggml's activation quantisers, sixteen values at a time, for blocks whose values are all finite
/// (the scalar quantisers take the others, and treat NaN and infinities as ggml's x86 kernels do).
enum LaneQuantizer {
    typealias Lanes = SIMD16<Float>

    @inline(__always)
    static func load(_ x: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(x).loadUnaligned(as: Lanes.self) }

    @inline(__always)
    static func magnitudes(_ x: UnsafePointer<Float>) -> Lanes {
        unsafeBitCast(unsafeBitCast(load(x), to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: Lanes.self)
    }

    /// Whether all `count` (a multiple of 16) values are finite: no exponent field all ones (∞ and NaN).
    @inline(__always)
    static func allFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool {
        var exponents = SIMD16<UInt32>()
        for i in Swift.stride(from: 0, to: count, by: 16) {
            exponents = pointwiseMax(exponents, unsafeBitCast(load(x + i), to: SIMD16<UInt32>.self) & 0x7F80_0000)
        }
        return exponents.max() < 0x7F80_0000
    }

    /// The largest magnitude of `count` (a multiple of 16) finite values. (By comparison and blend: the standard
    /// library's `pointwiseMax` of floats goes lane by lane, for NaN's sake.)
    @inline(__always)
    static func maximumMagnitude(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var m = Lanes()
        for i in Swift.stride(from: 0, to: count, by: 16) {
            let v = magnitudes(x + i)
            m.replace(with: v, where: v .> m)
        }
        var eight = m.lowHalf
        eight.replace(with: m.highHalf, where: m.highHalf .> eight)
        var four = eight.lowHalf
        four.replace(with: eight.highHalf, where: eight.highHalf .> four)
        return max(max(four[0], four[1]), max(four[2], four[3]))
    }

    /// `x · scale` rounded half to even, for sixteen products of magnitude below 2^22 (which the quantisers' scales
    /// keep under 128): added to 1.5 · 2^23, whose ulp is 1, the sum's low bits are the rounded integer. Clamped to
    /// int8, as the saturating packs of ggml's kernels clamp.
    @inline(__always)
    static func rounded(_ x: UnsafePointer<Float>, _ scale: Float) -> SIMD16<Int32> {
        let shifter = Lanes(repeating: 0x1.8p23)
        let bits = unsafeBitCast(load(x) * scale + shifter, to: SIMD16<Int32>.self) &- unsafeBitCast(shifter, to: SIMD16<Int32>.self)
        return pointwiseMax(pointwiseMin(bits, SIMD16(repeating: 127)), SIMD16(repeating: -128))
    }

    @inline(__always)
    static func store(_ q: SIMD16<Int32>, _ out: UnsafeMutableRawBufferPointer, at offset: Int) {
        out.baseAddress!.storeBytes(of: int8Lanes(q), toByteOffset: offset, as: SIMD16<Int8>.self)
    }
}
