import CCrypto

/// AES-256-GCM through libcrypto: a 32-byte key, a 12-byte nonce that must never repeat under one key, a 16-byte
/// tag over the ciphertext and the additional data. `open` returns nothing unless the tag proves both unchanged.
public enum AESGCM {
    public static let keySize = 32
    public static let nonceSize = 12
    public static let tagSize = 16

    public struct Sealed: Sendable, Equatable {
        public var ciphertext: [UInt8]
        public var tag: [UInt8]

        public init(ciphertext: [UInt8], tag: [UInt8]) {
            self.ciphertext = ciphertext
            self.tag = tag
        }
    }

    /// `plaintext` encrypted and authenticated with `additionalData`; nil only when libcrypto fails or a size is wrong.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], additionalData: [UInt8] = []) -> Sealed? {
        guard key.count == keySize, nonce.count == nonceSize else { return nil }
        // one byte at least: libcrypto is handed a buffer even for an empty text
        var output = [UInt8](repeating: 0, count: max(1, plaintext.count))
        var tag = [UInt8](repeating: 0, count: tagSize)
        let ok = output.withUnsafeMutableBufferPointer { out in
            tag.withUnsafeMutableBufferPointer { tagBuffer in
                deploy_aes256gcm(1, key, nonce, additionalData, additionalData.count, plaintext, plaintext.count, out.baseAddress, tagBuffer.baseAddress)
            }
        }
        return ok == 1 ? Sealed(ciphertext: Array(output.prefix(plaintext.count)), tag: tag) : nil
    }

    /// The plaintext of `sealed`, or nil when the key, nonce, additional data, ciphertext or tag is not what sealed it.
    public static func open(_ sealed: Sealed, key: [UInt8], nonce: [UInt8], additionalData: [UInt8] = []) -> [UInt8]? {
        guard key.count == keySize, nonce.count == nonceSize, sealed.tag.count == tagSize else { return nil }
        var output = [UInt8](repeating: 0, count: max(1, sealed.ciphertext.count))
        var tag = sealed.tag
        let ok = output.withUnsafeMutableBufferPointer { out in
            tag.withUnsafeMutableBufferPointer { tagBuffer in
                deploy_aes256gcm(0, key, nonce, additionalData, additionalData.count, sealed.ciphertext, sealed.ciphertext.count,
                                 out.baseAddress, tagBuffer.baseAddress)
            }
        }
        return ok == 1 ? Array(output.prefix(sealed.ciphertext.count)) : nil
    }
}
