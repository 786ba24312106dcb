import Foundation
import InferenceEngine

/// llama-server's `/tokenize` and `/detokenize`:
/// - `{"content": TEXT, "add_special": false, "parse_special": true, "with_pieces": false}` -> `{"tokens": [ids]}`, or
///   with pieces `{"tokens": [{"id": ID, "piece": TEXT}]}` (a piece that is not whole UTF-8 is its list of bytes);
/// - `{"tokens": [ids]}` -> `{"content": TEXT}`.
extension OpenAIService {
    func tokenize(_ request: HTTPRequest, model: ServedModel) throws(APIError) -> HTTPResponse {
        let object = try Self.tokenizerBody(request, known: ["content", "add_special", "parse_special", "with_pieces"])
        guard let content = object["content"] as? String else { throw .invalid("'content' must be a string", param: "content") }
        var reader = CompletionParameters.Reader(object: object)
        let addSpecial = try reader.bool("add_special") ?? false
        let parseSpecial = try reader.bool("parse_special") ?? true
        let withPieces = try reader.bool("with_pieces") ?? false
        try Self.checkTokenizeSize(content, model: model)
        let ids = model.tokenizer.encode(content, addBOS: addSpecial, parseSpecial: parseSpecial)
        guard withPieces else { return Self.json(200, ["tokens": ids]) }
        let tokens: [[String: Any]] = ids.map { id in
            let bytes = model.tokenizer.piece(id, special: true)
            let piece: Any = String(validating: bytes, as: UTF8.self) ?? bytes.map(Int.init)
            return ["id": id, "piece": piece]
        }
        return Self.json(200, ["tokens": tokens])
    }

    func detokenize(_ request: HTTPRequest, model: ServedModel) throws(APIError) -> HTTPResponse {
        let object = try Self.tokenizerBody(request, known: ["tokens"])
        guard let list = object["tokens"] as? [Any] else { throw .invalid("'tokens' must be a list of token ids", param: "tokens") }
        var ids: [Int] = []
        for (index, item) in list.enumerated() {
            guard let number = item as? NSNumber, !CompletionParameters.Reader.isBool(number), number.doubleValue.rounded() == number.doubleValue,
                  number.doubleValue >= 0, number.doubleValue < Double(model.tokenizer.size) else {
                throw .invalid("tokens[\(index)] is not a token id of this vocabulary (0 to \(model.tokenizer.size - 1))", param: "tokens")
            }
            ids.append(number.intValue)
        }
        return Self.json(200, ["content": model.tokenizer.decode(ids, special: true)])
    }

    private static func tokenizerBody(_ request: HTTPRequest, known: Set<String>) throws(APIError) -> [String: Any] {
        let object = try JSONBody.object(request.body)
        for key in object.keys.sorted() where !known.contains(key) {
            throw .invalid("unrecognized argument: '\(key.prefix(64))'", param: String(key.prefix(64)), code: "unknown_parameter")
        }
        return object
    }
}
