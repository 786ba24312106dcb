import Foundation
import GGUF
import InferenceEngine
#if canImport(Glibc)
import Glibc
#endif

// Multiplies one random weight matrix by batches of activations, per weight type and kernel set, on one thread unless
// told (-t N), and prints multiply-accumulates per second and each set's ratio to the first (portable unless --sets says)
// measured in the same run. The matrix (-r rows, -c columns; TinyLlama's 2048 x 2048 by default) fits in the last-level
// cache, so the figures are the kernels' own speed, not the memory's; with rows enough to pass the cache (-r 131072),
// batch 1 shows how near the memory's rate generation streams. `inference-server bench` measures whole models.
//     swift build -c release --product matmul-benchmark && .build/release/matmul-benchmark [-t 1] [-b 1,16,128]
//         [--types q4_0,q8_0] [--sets portable,avx2,avx512] [-r 2048] [-c 2048]
// `--bandwidth` prints instead the rate the threads read memory together (`readBandwidth`); `--sampler`, the time the
// sampler takes per token (`samplerBenchmark`).

struct Options {
    var threads = 1, rows = 2048, columns = 2048
    var batches = [1, 16, 128]
    var types: [TensorType] = [.q4_0, .q5_0, .q8_0, .q4_K, .q6_K]
    var sets = KernelSet.available

    init(_ arguments: [String]) {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { fail("\(flag) needs a value") }
            switch flag {
            case "-t": threads = Self.number(flag, value)
            case "-r": rows = Self.number(flag, value)
            case "-c": columns = Self.number(flag, value)
            case "-b": batches = value.split(separator: ",").map { Self.number(flag, String($0)) }
            case "--types":
                types = value.split(separator: ",").map { name in
                    guard let type = TensorType.allCases.first(where: { $0.name == name.uppercased() }) else { fail("unknown type \(name)") }
                    return type
                }
            case "--sets":
                sets = value.split(separator: ",").map { name in
                    guard let set = KernelSet(rawValue: String(name)), set.isAvailable else { fail("no kernel set \(name) on this CPU") }
                    return set
                }
            default: fail("unknown option \(flag)")
            }
        }
    }

    static func number(_ flag: String, _ value: String) -> Int {
        guard let n = Int(value), n > 0 else { fail("\(flag) takes a positive number, not \(value)") }
        return n
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("matmul-benchmark: \(message)\n".utf8))
    exit(2)
}

/// Where each block of a type keeps its f16 scales: set to small normal values, so that no product is NaN or
/// subnormal (which some CPUs run slower).
func scaleOffsets(_ type: TensorType) -> [Int] {
    switch type {
    case .q4_0, .q5_0, .q8_0: [0]
    case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
    case .q2_K: [80, 82]
    case .q3_K: [108]
    case .q6_K: [208]
    default: []
    }
}

/// Random rows of `type` in 2 MiB pages, as the engine keeps the weights it streams; `release` unmaps them.
func randomRows(_ type: TensorType, rows: Int, columns: Int) -> (data: UnsafeMutableRawBufferPointer, release: () -> Void) {
    let (elements, blockBytes) = type.block
    let count = rows * columns / elements * blockBytes
    let huge = 2 << 20, pages = (count + huge - 1) / huge * huge, mapped = pages + huge
    guard let start = mmap(nil, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), start != MAP_FAILED else {
        fail("cannot map \(mapped) bytes")
    }
    let aligned = UnsafeMutableRawPointer(bitPattern: (Int(bitPattern: start) + huge - 1) / huge * huge)!
    _ = madvise(aligned, pages, MADV_HUGEPAGE)
    let data = UnsafeMutableRawBufferPointer(start: aligned, count: count)
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15  // xorshift64: the values need not be good, only many and quick
    for i in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        data[i] = UInt8(truncatingIfNeeded: state >> 32)
    }
    for block in stride(from: 0, to: count, by: blockBytes) {
        for offset in scaleOffsets(type) { data.storeBytes(of: Float16(0.01).bitPattern, toByteOffset: block + offset, as: UInt16.self) }
    }
    return (data, { _ = munmap(start, mapped) })
}

func seconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Multiply-accumulates per second of `matrix` by `batch` tokens: repeated until half a second has passed, best of three.
func rate(_ matrix: WeightMatrix, batch: Int, workers: Workers) -> Double {
    let input = UnsafeMutablePointer<Float>.allocate(capacity: batch * matrix.columns)
    let output = UnsafeMutablePointer<Float>.allocate(capacity: batch * matrix.rows)
    defer { input.deallocate(); output.deallocate() }
    for i in 0..<(batch * matrix.columns) { input[i] = Float.random(in: -1...1) }
    matrix.multiply(input, batch: batch, into: output, workers: workers)
    var best = 0.0
    for _ in 0..<3 {
        var runs = 0
        let start = seconds()
        var elapsed = 0.0
        while elapsed < 0.5 {
            matrix.multiply(input, batch: batch, into: output, workers: workers)
            runs += 1
            elapsed = seconds() - start
        }
        best = max(best, Double(runs * batch * matrix.rows * matrix.columns) / elapsed)
    }
    return best
}

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments == ["--sampler"] {
    samplerBenchmark()
    exit(0)
}
let bandwidthOnly = arguments.contains("--bandwidth")
arguments.removeAll { $0 == "--bandwidth" }
let options = Options(arguments)
let workers = Workers(threads: options.threads)
if bandwidthOnly {
    print(String(format: "read bandwidth, %d thread(s): %.2f GB/s", options.threads, readBandwidth(workers: workers) / 1e9))
    exit(0)
}
print("matmul \(options.rows) x \(options.columns), \(options.threads) thread(s), sets: \(options.sets.map(\.rawValue).joined(separator: ", "))")
print("| type | batch | " + options.sets.map { "\($0.rawValue) GMAC/s" }.joined(separator: " | ") + " | " +
      options.sets.dropFirst().map { "\($0.rawValue) / \(options.sets[0].rawValue)" }.joined(separator: " | ") + " |")
print("| --- | ---: |" + String(repeating: " ---: |", count: 2 * options.sets.count - 1))
for type in options.types {
    let (data, release) = randomRows(type, rows: options.rows, columns: options.columns)
    defer { release() }
    for batch in options.batches {
        var rates: [Double] = []
        for set in options.sets {
            do {
                let matrix = try WeightMatrix(name: "bench", type: type, rows: options.rows, columns: options.columns,
                                              data: UnsafeRawBufferPointer(data), kernels: set)
                rates.append(rate(matrix, batch: batch, workers: workers))
            } catch {
                fail("\(type.name): \(error)")
            }
        }
        let figures = rates.map { String(format: "%.2f", $0 / 1e9) }
        let ratios = rates.dropFirst().map { String(format: "%.2f", $0 / rates[0]) }
        print("| \(type.name) | \(batch) | " + (figures + ratios).joined(separator: " | ") + " |")
    }
}
