import Foundation
import Synchronization
import Testing
@testable import InferenceService

/// Connection slots: with every slot (or every slot its address may hold) taken, a new connection takes the slot of
/// the connection that has waited longest for a whole request; only when those are all busy answering is it turned
/// away.
@Suite("connection slots")
struct ConnectionTableTests {
    enum Step: Sendable {
        case connect(String)
        /// The nth admitted connection (1-based) has a whole request in.
        case busy(Int)
        /// The nth admitted connection waits again (after its response).
        case waiting(Int)
        case close(Int)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var capacity: Int, perClient: Int
        var steps: [Step]
        /// What the last `connect` got: the admitted connection whose slot it reclaimed (1-based), 0 for none,
        /// or nil when turned away with `refusal`.
        var reclaims: Int?
        var refusal: ConnectionTable.Admission?
        var testDescription: String { name }
    }

    @Test("admission", arguments: [
        Case(name: "a free slot", capacity: 2, perClient: 2, steps: [.connect("a")], reclaims: 0),
        Case(name: "at the address's cap: its own longest waiting gives its slot up, not another address's", capacity: 3, perClient: 2,
             steps: [.connect("b"), .connect("a"), .connect("a"), .connect("a")], reclaims: 2),
        Case(name: "at the address's cap with all of its own busy: turned away even with slots free", capacity: 4, perClient: 2,
             steps: [.connect("a"), .connect("a"), .busy(1), .busy(2), .connect("a")], refusal: .overClientLimit),
        Case(name: "full of idle connections: the oldest gives its slot up", capacity: 2, perClient: 2,
             steps: [.connect("a"), .connect("b"), .connect("c")], reclaims: 1),
        Case(name: "the busy ones are passed over", capacity: 3, perClient: 3,
             steps: [.connect("a"), .connect("b"), .connect("c"), .busy(1), .connect("d")], reclaims: 2),
        Case(name: "a kept-alive connection waits from its last response", capacity: 2, perClient: 2,
             steps: [.connect("a"), .connect("b"), .busy(1), .waiting(1), .connect("c")], reclaims: 2),
        Case(name: "every slot busy: turned away", capacity: 2, perClient: 2,
             steps: [.connect("a"), .connect("b"), .busy(1), .busy(2), .connect("c")], refusal: .full),
        Case(name: "a closed connection frees its slot", capacity: 2, perClient: 2,
             steps: [.connect("a"), .connect("b"), .busy(1), .busy(2), .close(2), .connect("c")], reclaims: 0),
        Case(name: "a reclaimed slot counts no more against its address", capacity: 2, perClient: 1,
             steps: [.connect("a"), .connect("b"), .connect("c"), .connect("a")], reclaims: 2),
    ])
    func admission(_ test: Case) throws {
        var table = ConnectionTable(capacity: test.capacity, perClientLimit: test.perClient)
        var admitted: [(id: UInt64, descriptor: Int32)] = []
        var last: ConnectionTable.Admission?
        var clock = ContinuousClock.now
        for step in test.steps {
            clock = clock + .milliseconds(10)
            switch step {
            case .connect(let host):
                let descriptor = Int32(100 + admitted.count)
                last = table.admit(host: host, descriptor: descriptor, now: clock)
                if case .admitted(let id, _) = last { admitted.append((id, descriptor)) }
            case .busy(let index):
                let found = table.busy(admitted[index - 1].id)
                #expect(found)
            case .waiting(let index): table.waiting(admitted[index - 1].id, since: clock)
            case .close(let index):
                let found = table.remove(admitted[index - 1].id)
                #expect(found)
            }
        }
        let outcome = try #require(last)
        if let refusal = test.refusal {
            #expect(outcome == refusal)
            return
        }
        guard case .admitted(_, let reclaimed) = outcome else {
            Issue.record("turned away: \(outcome)")
            return
        }
        let expected = try #require(test.reclaims)
        #expect(reclaimed == (expected == 0 ? nil : admitted[expected - 1].descriptor))
        #expect(table.count <= test.capacity)
        #expect(table.perClient.values.allSatisfy { $0 <= test.perClient })
        if expected > 0 {
            let busy = table.busy(admitted[expected - 1].id), removed = table.remove(admitted[expected - 1].id)
            #expect(!busy, "a reclaimed connection finds itself gone")
            #expect(!removed, "and its leaving frees nothing twice")
        }
    }

    @Test("a body's nesting depth is counted outside strings only", arguments: [
        ("{}", 1, nil), ("[[[]]]", 2, 3), ("[[[]]]", 3, nil), (#"["[[[[", "]]"]"#, 1, nil), (#"["\"[[[", {"a": [1]}]"#, 2, 3),
        (#"{"a": "\\", "b": [[]]}"#, 2, 3),
    ] as [(String, Int, Int?)])
    func depth(_ body: String, limit: Int, exceeded: Int?) {
        #expect(JSONBody.depthExceeding(limit, Array(body.utf8)) == exceeded)
    }

    @Test("a server whose every slot is busy answering turns a new connection away with 503; an idle one gives its slot up")
    func busyServer() throws {
        let release = DispatchSemaphore(value: 0)
        let entered = DispatchSemaphore(value: 0)
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.maxConnections = 2
        configuration.maxConnectionsPerClient = 4
        let refusals = RefusalLog()
        configuration.onRefusal = { refusals.add($0) }
        let server = try HTTPServer(configuration) { request in
            if request.path == "/block" {
                entered.signal()
                release.wait()
            }
            return .text(200, "ok")
        }
        server.serve()
        defer { server.stop() }
        let idle = try RawHTTPClient(port: server.port)
        let blocked = try RawHTTPClient(port: server.port)
        blocked.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(entered.wait(timeout: .now() + 5) == .success)
        // the idle connection's slot goes to a new one, which blocks too
        let second = try RawHTTPClient(port: server.port)
        second.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(entered.wait(timeout: .now() + 5) == .success)
        #expect(idle.readAll().isEmpty, "the idle connection was closed without a byte")
        let turnedAway = try RawHTTPClient(port: server.port)
        #expect(turnedAway.response()?.status == 503)
        release.signal()
        release.signal()
        #expect(blocked.response()?.status == 200)
        #expect(second.response()?.status == 200)
        // the service hears of a refusal before routing, with what of the request line could be read
        let oversized = try RawHTTPClient(port: server.port)
        oversized.send("POST /v1/completions?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n")
        #expect(oversized.response()?.status == 413)
        let recorded = refusals.all
        #expect(recorded.count == 1)
        #expect(recorded.first.map { [$0.method, $0.path] } == ["POST", "/v1/completions"])
    }

    final class RefusalLog: Sendable {
        private let refusals = Mutex<[HTTPRefusal]>([])
        func add(_ refusal: HTTPRefusal) { refusals.withLock { $0.append(refusal) } }
        var all: [HTTPRefusal] { refusals.withLock { $0 } }
    }
}
