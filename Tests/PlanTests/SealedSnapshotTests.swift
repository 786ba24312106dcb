import Foundation
import Hashing
import Testing
@testable import Plan

/// AES-256-GCM against NIST's vectors (Fixtures/aes-gcm, made by scripts/make_gcm_vectors.py), then the sealed
/// snapshot a shared backend keeps: a round trip, every field's change refused, a rollback and a fork refused, and
/// a key that cannot encrypt producing nothing.
@Suite("sealed state snapshots")
struct SealedSnapshotTests {
    struct Vector: Decodable, Sendable, CustomTestStringConvertible {
        var key: String, iv: String, aad: String, ciphertext: String, tag: String, plaintext: String?, source: String
        var testDescription: String { source + (plaintext == nil ? " (forged)" : "") }
    }

    static let vectors: [Vector] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/aes-gcm/vectors.json")
        return (try? JSONDecoder().decode([Vector].self, from: Data(contentsOf: url))) ?? []
    }()

    @Test func theVectorsAreThere() {
        #expect(Self.vectors.count == 150 && Self.vectors.filter { $0.plaintext == nil }.count == 34)
    }

    @Test("AES-256-GCM seals and opens as NIST's vectors say, and opens no forged one", arguments: vectors)
    func nist(_ vector: Vector) throws {
        let key = try #require(Hex.decode(vector.key)), nonce = try #require(Hex.decode(vector.iv))
        let aad = try #require(Hex.decode(vector.aad)), ciphertext = try #require(Hex.decode(vector.ciphertext)), tag = try #require(Hex.decode(vector.tag))
        let opened = AESGCM.open(AESGCM.Sealed(ciphertext: ciphertext, tag: tag), key: key, nonce: nonce, additionalData: aad)
        guard let plaintext = vector.plaintext else {
            #expect(opened == nil)
            return
        }
        let expected = try #require(Hex.decode(plaintext))
        #expect(opened == expected)
        #expect(AESGCM.seal(expected, key: key, nonce: nonce, additionalData: aad) == AESGCM.Sealed(ciphertext: ciphertext, tag: tag))
    }

    static func dataKey(_ id: String = "arn:aws:kms:eu-west-1:123456789012:key/1") -> SealedSnapshot.DataKey {
        var generator = SystemRandomNumberGenerator()
        return SealedSnapshot.DataKey(plaintext: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }, encrypted: Array("wrapped".utf8), keyId: id)
    }

    static let context = ["stack": "private-inference", "object": "s3://bucket/private-inference.state"]

    @Test func aSnapshotOpensWithItsKeyAndChainsToTheOneBefore() throws {
        let key = Self.dataKey()
        let first = try SealedSnapshot.seal(Array("{\"serial\":1}".utf8), after: nil, dataKey: key, context: Self.context)
        #expect(first.serial == 1 && first.previousSHA256.isEmpty && !first.ciphertext.contains("serial"))
        #expect(try first.open(dataKey: key.plaintext, newestSeen: nil) == Array("{\"serial\":1}".utf8))
        let seen = SealedSnapshot.Seen(serial: 1, sha256: SHA256.hex(Array(first.stored)))
        let second = try SealedSnapshot.seal(Array("two".utf8), after: seen, dataKey: Self.dataKey(), context: Self.context)
        #expect(second.serial == 2 && second.previousSHA256 == seen.sha256)
        // the same snapshot read again is no rollback
        #expect(try first.open(dataKey: key.plaintext, newestSeen: seen) == Array("{\"serial\":1}".utf8))
    }

    /// Each field changed after sealing: the snapshot does not open.
    @Test func noFieldChangesUnseen() throws {
        let key = Self.dataKey()
        let sealed = try SealedSnapshot.seal(Array("state".utf8), after: SealedSnapshot.Seen(serial: 4, sha256: "ab"), dataKey: key, context: Self.context)
        let changes: [(String, (inout SealedSnapshot) -> Void)] = [
            ("serial", { $0.serial = 9 }), ("previous", { $0.previousSHA256 = "cd" }), ("key id", { $0.keyId = "other" }),
            ("data key", { $0.encryptedDataKey = Data("other".utf8).base64EncodedString() }), ("context", { $0.encryptionContext["stack"] = "other" }),
            ("nonce", { $0.nonce = String(repeating: "0", count: 24) }), ("tag", { $0.tag = String(repeating: "0", count: 32) }),
            ("ciphertext", { $0.ciphertext = Data("stbte".utf8).base64EncodedString() }),
        ]
        for (name, change) in changes {
            var forged = sealed
            change(&forged)
            #expect(throws: SealError(.tampered, "snapshot \(forged.serial) does not open with its data key: it was changed after it was sealed, or sealed under another"),
                    "\(name)") { try forged.open(dataKey: key.plaintext, newestSeen: nil) }
        }
        #expect(throws: SealError.self) { try sealed.open(dataKey: Self.dataKey().plaintext, newestSeen: nil) }
    }

    @Test func anOlderSnapshotPutBackOrAForkIsRefused() throws {
        let key = Self.dataKey()
        let third = try SealedSnapshot.seal(Array("three".utf8), after: SealedSnapshot.Seen(serial: 2, sha256: "x"), dataKey: key, context: Self.context)
        do {
            _ = try third.open(dataKey: key.plaintext, newestSeen: SealedSnapshot.Seen(serial: 5, sha256: "y"))
            Issue.record("a rollback opened")
        } catch {
            #expect(error.kind == .rollback && error.message.contains("snapshot 3 is older than snapshot 5"))
        }
        do {
            _ = try third.open(dataKey: key.plaintext, newestSeen: SealedSnapshot.Seen(serial: 3, sha256: "not this one"))
            Issue.record("a fork opened")
        } catch {
            #expect(error.kind == .fork)
        }
    }

    @Test func aKeyThatCannotEncryptWritesNothing() {
        for key in [SealedSnapshot.DataKey(plaintext: [1, 2, 3], encrypted: [1], keyId: "k"), SealedSnapshot.DataKey(plaintext: Array(repeating: 1, count: 32), encrypted: [], keyId: "k"),
                    SealedSnapshot.DataKey(plaintext: Array(repeating: 1, count: 32), encrypted: [1], keyId: "")] {
            #expect(throws: SealError.self) { try SealedSnapshot.seal(Array("state".utf8), after: nil, dataKey: key, context: [:]) }
        }
    }
}
