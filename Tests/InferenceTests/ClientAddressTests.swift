import Testing
@testable import InferenceService

/// What per-client limits count against: an IPv4 address as it is, an IPv6 address by its /64, an IPv4 client on
/// a dual-stack socket as its IPv4 address.
@Suite("client address for limits")
struct ClientAddressTests {
    @Test("keys", arguments: [
        ("127.0.0.1:8080", "127.0.0.1"),
        ("10.1.2.3:1", "10.1.2.3"),
        ("::1:443", "0:0:0:0::/64"),
        ("2001:db8:1:2:3:4:5:6:443", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff:9", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1:9", "2001:db8:1:3::/64"),
        ("::ffff:192.0.2.7:80", "192.0.2.7"),
        ("unknown", "unknown"),
    ])
    func key(_ peer: String, _ expected: String) {
        #expect(ClientAddress.key(ofPeer: peer) == expected)
    }
}
