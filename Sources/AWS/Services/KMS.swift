import Foundation

/// AWS Key Management Service.
public struct KMS: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) {
        self.client = client
    }

    public struct KeyEntry: Sendable, Equatable, Codable {
        public var KeyId: String
        public var KeyArn: String
    }

    struct ListKeysInput: Encodable, Sendable {
        var Marker: String?
    }

    struct ListKeysOutput: Decodable {
        var Keys: [KeyEntry]
        var NextMarker: String?
        var Truncated: Bool?
    }

    /// Every key in the account and region, following pagination.
    public func listKeys() async throws -> [KeyEntry] {
        var keys: [KeyEntry] = []
        var marker: String?
        repeat {
            let page = try await client.json(.kms, operation: "ListKeys", input: ListKeysInput(Marker: marker),
                                             as: ListKeysOutput.self)
            keys += page.Keys
            marker = page.Truncated == true ? page.NextMarker : nil
        } while marker != nil
        return keys
    }
}

extension KMS {
    /// A fresh data key from `GenerateDataKey`: the key in the clear (to encrypt with, never stored), the key as KMS
    /// encrypted it, and the ARN of the KMS key that did.
    public struct DataKey: Sendable {
        public var plaintext: [UInt8]
        public var ciphertextBlob: [UInt8]
        public var keyID: String
    }

    struct GenerateDataKeyInput: Encodable, Sendable {
        var KeyId: String
        var KeySpec = "AES_256"
        var EncryptionContext: [String: String]
    }

    struct DataKeyOutput: Decodable {
        var Plaintext: Data
        var CiphertextBlob: Data?
        var KeyId: String
    }

    /// A new 256-bit data key under `keyID` (an id, ARN or `alias/...`), bound to `context`: KMS decrypts it only
    /// under the same context.
    public func generateDataKey(keyID: String, context: [String: String]) async throws -> DataKey {
        // a data key whose answer was lost is simply made again: asking twice changes nothing in the account
        let output = try await RequestRetry.$mayRepeat.withValue(true) {
            try await client.json(.kms, operation: "GenerateDataKey", input: GenerateDataKeyInput(KeyId: keyID, EncryptionContext: context),
                                  as: DataKeyOutput.self)
        }
        return DataKey(plaintext: Array(output.Plaintext), ciphertextBlob: Array(output.CiphertextBlob ?? Data()), keyID: output.KeyId)
    }

    struct DecryptInput: Encodable, Sendable {
        var CiphertextBlob: Data
        var EncryptionContext: [String: String]
        var KeyId: String?
    }

    /// The data key in `ciphertextBlob`, decrypted by KMS under `context`; with `keyID`, KMS refuses a blob that key
    /// did not encrypt. Returns the key and the ARN of the KMS key that decrypted it.
    public func decrypt(_ ciphertextBlob: [UInt8], context: [String: String], keyID: String? = nil) async throws -> (plaintext: [UInt8], keyID: String) {
        let input = DecryptInput(CiphertextBlob: Data(ciphertextBlob), EncryptionContext: context, KeyId: keyID)
        let output = try await RequestRetry.$mayRepeat.withValue(true) {
            try await client.json(.kms, operation: "Decrypt", input: input, as: DataKeyOutput.self)
        }
        return (Array(output.Plaintext), output.KeyId)
    }
}
