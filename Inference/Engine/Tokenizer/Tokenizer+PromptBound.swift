/// A lower bound on a text's token count from its length alone, so that a prompt far too long for the context is
/// refused without tokenizing it (megabytes of text take seconds of CPU to tokenize).
extension Tokenizer {
    /// At least how many tokens `bytes` bytes of text become (BOS not counted); nil when the vocabulary gives no bound.
    public func minimumTokens(forBytes bytes: Int) -> Int? {
        guard let longest = longestPieceBytes else { return nil }
        return (bytes + longest - 1) / longest
    }

    /// The longest token text in bytes, which bounds the input one token covers: a token matched from the text is
    /// its own bytes (SentencePiece writes a space as the three bytes of "▁", GPT-2's byte table one byte as one or
    /// two), a byte token (`<0x41>`) stands for one byte, an unknown token for at most one character (4 bytes), and a
    /// special token for its own text. It holds only if every byte of the text yields a token: SentencePiece falls
    /// back to byte tokens or the unknown token, which never drops a byte; byte-level BPE drops a byte whose
    /// character is missing from the vocabulary, so there every one of the 256 must be present.
    static func longestPiece(_ vocabulary: Vocabulary) -> Int? {
        if vocabulary.model == "gpt2" {
            for character in BytePairTokenizer.byteCharacters where vocabulary.id(String(character)) == nil { return nil }
        }
        return max(4, vocabulary.tokens.reduce(1) { max($0, $1.utf8.count) })
    }
}
