import DeployTestSupport
import Foundation
import Testing
@testable import Stack

/// The fleet stack's inputs refused at plan time, each at its line, rather than by AWS halfway through an apply.
@Suite("fleet stack inputs")
struct FleetStackTests {
    /// Expands a scratch copy of the fleet stack after `edit` changes its files; the error, if any.
    func expand(_ edit: (URL) throws -> Void) throws -> StackError? {
        let (stack, directory) = try ShippedStack.scratch("fleet")
        defer { try? FileManager.default.removeItem(at: directory) }
        try edit(directory)
        do {
            var expander = Expander(try StackConfiguration.load(stackPath: stack))
            _ = try expander.expand()
            return nil
        } catch {
            return error
        }
    }

    static let certificate = try! ShippedStack.listenerCertificate.get()
    static let certificateOnly = String(certificate[..<certificate.range(of: "-----BEGIN PRIVATE KEY-----")!.lowerBound])

    @Test("the listener's PEM file is read at plan time: each part must be there", arguments: [
        (certificateOnly, "holds no PEM private key"),
        (String(certificate[certificate.range(of: "-----BEGIN PRIVATE KEY-----")!.lowerBound...]), "holds no PEM certificate"),
        ("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n", "holds no PEM certificate"),
        (certificate + certificate[certificate.range(of: "-----BEGIN PRIVATE KEY-----")!.lowerBound...], "holds more than one private key"),
    ])
    func badPEM(_ text: String, _ message: String) throws {
        let error = try expand { directory in
            try text.write(to: directory.appendingPathComponent("Stacks/artifacts/tls/listener.pem"), atomically: true, encoding: .utf8)
        }
        #expect(error?.message.contains("inference.listener_certificate[0]: 'artifacts/tls/listener.pem' \(message)") == true, "\(String(describing: error))")
        #expect(error?.location?.file.hasSuffix("inference.json5") == true, "at the property naming the file")
    }

    @Test("a PEM file with CRLF line ends is read as with LF, to the same certificate digest")
    func crlf() throws {
        let lf = try PEMBundle(Data(Self.certificate.utf8))
        let crlf = try PEMBundle(Data(Self.certificate.replacingOccurrences(of: "\n", with: "\r\n").utf8))
        #expect(lf.certificateDigest == crlf.certificateDigest && lf.certificateDigest.count == 64)
        #expect(try expand { directory in
            try Self.certificate.replacingOccurrences(of: "\n", with: "\r\n")
                .write(to: directory.appendingPathComponent("Stacks/artifacts/tls/listener.pem"), atomically: true, encoding: .utf8)
        } == nil)
    }

    @Test("sizes out of order, a name AWS would refuse, and an unknown instance type are refused at plan time", arguments: [
        ("min: 2,", "min: 7,", "min_size 7 is more than max_size 6"),
        ("desired: 2,", "desired: 9,", "desired_capacity 9 is outside min_size 2 to max_size 6"),
        ("name: \"private-inference-fleet\",", "name: \"private-inference-fleet-east\",",
         "property 'name' must be 1 to 32 letters, digits and hyphens, not starting or ending with a hyphen, not 'private-inference-fleet-east-targets'"),
    ])
    func refused(_ original: String, _ replacement: String, _ message: String) throws {
        let error = try expand { directory in
            let path = directory.appendingPathComponent("Stacks/fleet.json5")
            let text = try String(contentsOf: path, encoding: .utf8)
            #expect(text.contains(original))
            try text.replacingOccurrences(of: original, with: replacement).write(to: path, atomically: true, encoding: .utf8)
        }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
        #expect(error?.location != nil)
    }
}
