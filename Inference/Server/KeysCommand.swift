import Foundation
import InferenceService

/// `inference-server keys add NAME | list | revoke NAME --keys FILE`.
enum Keys {
    static let usage = "USAGE: inference-server keys add NAME --keys FILE | keys list --keys FILE | keys revoke NAME --keys FILE"

    static func run(_ arguments: [String]) throws {
        guard let action = arguments.first, ["add", "list", "revoke"].contains(action) else {
            if arguments.first == "--help" || arguments.first == "-h" { throw Arguments.HelpRequested(usage: usage) }
            throw Arguments.Invalid(description: "keys: give add, list or revoke")
        }
        var rest = Array(arguments.dropFirst())
        let name = action == "list" ? nil : rest.first.flatMap { $0.hasPrefix("-") ? nil : $0 }
        if name != nil { rest.removeFirst() }
        let options = try Arguments("keys \(action)", rest, valued: ["--keys"], switches: [], usage: usage)
        let path = try options.required("--keys")
        do {
            switch action {
            case "add":
                guard let name else { throw Arguments.Invalid(description: "keys add: give the NAME of the user or team") }
                let key = try KeyStore.add(name: name, path: path)
                print(key)
                FileHandle.standardError.write(Data("inference-server: created a key for \(name); it is shown only now\n".utf8))
            case "revoke":
                guard let name else { throw Arguments.Invalid(description: "keys revoke: give the NAME whose key to revoke") }
                try KeyStore.revoke(name: name, path: path)
                FileHandle.standardError.write(Data("inference-server: revoked \(name)'s key; a running server refuses it within a second\n".utf8))
            default:
                for entry in try KeyStore.list(path: path) { print("\(entry.name)\t\(entry.created)\tsha256:\(entry.sha256.prefix(12))…") }
            }
        } catch let error as KeyStore.KeyError {
            throw Arguments.Invalid(description: "keys \(action): \(error.description)")
        }
    }
}
