import Testing
@testable import InferenceEngine

/// A slot's states, named as llama.cpp's server names them: idle, processing its prompt a chunk a step, generating
/// once the whole prompt has run; back to idle on release, its cache kept for a prompt sharing its beginning.
@Suite("slot states")
struct SlotStateTests {
    static func request(_ prompt: [Int]) -> CompletionRequest {
        CompletionRequest(prompt: prompt, sampling: SamplingSettings(), maxTokens: 4) { _ in }
    }

    @Test("idle, processing the prompt, generating once all of it has run, idle again")
    func lifecycle() {
        let slot = Slot(cache: KVCache(layers: 1, capacity: 16, kvDimension: 2))
        #expect(!slot.isBusy && slot.request == nil)
        slot.start(Self.request([1, 2, 3, 4]), submitted: .now, tick: 1, tokenBytes: { fatalError("a request without a constraint needs no token table") })
        #expect(slot.isProcessingPrompt && !slot.isGenerating && slot.pending == [1, 2, 3, 4])
        slot.pending.removeFirst(2)
        slot.promptAdvanced()
        #expect(slot.isProcessingPrompt, "half the prompt still to run")
        slot.pending.removeAll()
        slot.promptAdvanced()
        #expect(slot.isGenerating && slot.request?.prompt == [1, 2, 3, 4])
        slot.release(tick: 2)
        #expect(!slot.isBusy && !slot.isGenerating && !slot.isProcessingPrompt)
    }

    @Test("a prompt the cache already holds still runs its last token, so a reused slot starts processing it")
    func reuse() {
        let slot = Slot(cache: KVCache(layers: 1, capacity: 16, kvDimension: 2))
        slot.cachedTokens = [1, 2, 3]
        slot.start(Self.request([1, 2, 3]), submitted: .now, tick: 1, tokenBytes: { fatalError("a request without a constraint needs no token table") })
        #expect(slot.isProcessingPrompt && slot.pending == [3] && slot.reused == 2)
    }
}
