import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the per-client limits (connections, rate budgets) count against: an IPv4 address, or an IPv6 address's /64
/// network, since a single subscriber is usually given a whole /64 and could otherwise pose as 2^64 clients.
enum ClientAddress {
    /// The limits' key for `peer` (`ip:port`, as the server describes a connection).
    static func key(ofPeer peer: String) -> String {
        let host = peer.lastIndex(of: ":").map { String(peer[..<$0]) } ?? peer
        var address = in6_addr()
        guard host.contains(":"), inet_pton(AF_INET6, host, &address) == 1 else { return host }
        let bytes = withUnsafeBytes(of: address) { Array($0) }
        // an IPv4 client on a dual-stack socket (::ffff:a.b.c.d) is that IPv4 address
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return bytes[12..<16].map(String.init).joined(separator: ".")
        }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}
