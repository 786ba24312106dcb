import Foundation
import InferenceEngine

/// `--sampler`: microseconds per sampled token over random logits, for vocabularies of Llama's and Gemma 3's size
/// and the sampler chains that matter: nothing cut (OpenAI's defaults), llama.cpp's defaults, top-p alone, greedy.
/// The best of several rounds, each the mean over many draws, so that figures of two builds can be set side by side.
func samplerBenchmark() {
    let chains: [(String, SamplingSettings)] = [
        ("nothing cut", settings(temperature: 1, topK: 0, topP: 1, minP: 0)),
        ("llama.cpp defaults", settings(temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05)),
        ("top-p 0.9", settings(temperature: 1, topK: 0, topP: 0.9, minP: 0)),
        ("greedy", settings(temperature: 0, topK: 0, topP: 1, minP: 0)),
    ]
    print("| vocabulary | chain | µs per token |")
    print("| ---: | --- | ---: |")
    for vocabulary in [32_000, 262_144] {
        var generator = SystemRandomNumberGenerator()
        let logits = (0..<vocabulary).map { _ in Float.random(in: -12...12, using: &generator) }
        for (name, chain) in chains {
            var sampler = Sampler(chain)
            let draws = 200
            var best = Double.infinity
            for _ in 0..<5 {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<draws { _ = sampler.sample(logits, history: []) }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / Double(draws) / 1000)
            }
            print(String(format: "| %d | %@ | %.1f |", vocabulary, name, best))
        }
    }
}

private func settings(temperature: Float, topK: Int, topP: Float, minP: Float) -> SamplingSettings {
    var settings = SamplingSettings()
    settings.temperature = temperature
    settings.topK = topK
    settings.topP = topP
    settings.minP = minP
    return settings
}
