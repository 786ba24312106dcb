import Foundation
import GGUF
import Testing
@testable import InferenceEngine
@testable import InferenceService

/// The HTTP API in-process, on a loopback port, over a fixture model: OpenAI's shapes and errors, streaming bytes,
/// keep-alive, limits, keys, the audit chain and the metrics.
@Suite("inference HTTP service", .serialized)
struct ServiceTests {
    /// A running server with a keys file holding one key for "alice", and an audit log.
    final class Harness: @unchecked Sendable {
        // @unchecked: built once, then only read by the tests that own it
        let directory: URL
        let server: HTTPServer
        let service: OpenAIService
        let scheduler: Scheduler
        let key: String
        let keysPath: String
        let auditPath: String
        let model: Transformer
        let tokenizer: Tokenizer

        init(parallel: Int = 4, queueLimit: Int? = nil, limits: HTTPLimits = HTTPLimits(), rateLimit: Double? = nil,
             auditMaxBytes: Int = 1 << 30, maxConnections: Int = 64, startScheduler: Bool = true, withTemplate: Bool = true) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("service-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            keysPath = directory.appendingPathComponent("keys.json").path
            auditPath = directory.appendingPathComponent("audit.jsonl").path
            key = try KeyStore.add(name: "alice", path: keysPath)
            let file = try GGUFFile.open(ModelFixtureTests.directory.appendingPathComponent("qwen2-q4_k_m.gguf").path)
            model = try Transformer(file, workers: Workers(threads: 2))
            tokenizer = try Tokenizer(Vocabulary(file))
            scheduler = Scheduler(model: model, tokenizer: tokenizer,
                                  configuration: .init(parallel: parallel, contextPerSlot: 128, queueLimit: queueLimit))
            if startScheduler { scheduler.start() }
            service = OpenAIService(options: .init(keys: try KeyStore(path: keysPath),
                                                   audit: try AuditLog(path: auditPath, maxBytes: auditMaxBytes),
                                                   rateLimiter: rateLimit.map { RateLimiter(rate: $0, burst: $0) }))
            service.serve(ServedModel(id: "qwen2-test", created: 1_700_000_000, scheduler: scheduler, tokenizer: tokenizer,
                                      chatTemplate: withTemplate ? .success(try ChatTemplate.detect(file.string("tokenizer.chat_template")))
                                                    : .failure(ChatTemplate.Unknown(description: "the model has no tokenizer.chat_template")),
                                      context: 128))
            var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
            configuration.limits = limits
            configuration.maxConnections = maxConnections
            let service = self.service
            server = try HTTPServer(configuration) { service.handle($0) }
            server.serve()
        }

        func client() throws -> RawHTTPClient { try RawHTTPClient(port: server.port) }
        var auth: [String: String] { ["Authorization": "Bearer \(key)"] }

        func close() {
            server.stop()
            scheduler.drain()
            try? FileManager.default.removeItem(at: directory)
        }

        /// The text generating alone gives, greedily.
        func greedy(_ prompt: String, chat: Bool, maxTokens: Int) throws -> String {
            let text = chat ? (try ChatTemplate.detect(model.file.string("tokenizer.chat_template"))).render([ChatMessage(role: "user", content: prompt)]) : prompt
            return try Generator(model: model, tokenizer: tokenizer).generate(
                prompt: tokenizer.encode(text, addBOS: true, parseSpecial: true), maxTokens: maxTokens, sampling: .greedy,
                cache: model.makeCache(capacity: 128)).text
        }
    }

    @Test("chat and text completions answer in OpenAI's shape with the engine's greedy text and true token counts")
    func completions() throws {
        let harness = try Harness()
        defer { harness.close() }
        let client = try harness.client()
        let chat = try #require(client.request("POST", "/v1/chat/completions", body: #"{"model":"qwen2-test","messages":[{"role":"user","content":"Hello"}],"max_tokens":6,"temperature":0}"#,
                                               headers: harness.auth))
        #expect(chat.status == 200, "\(chat.text)")
        let object = try #require(chat.json)
        #expect(object["object"] as? String == "chat.completion" && (object["id"] as? String)?.hasPrefix("chatcmpl-") == true)
        let choice = try #require((object["choices"] as? [[String: Any]])?.first)
        let message = try #require(choice["message"] as? [String: Any])
        #expect(message["role"] as? String == "assistant")
        #expect(message["content"] as? String == (try harness.greedy("Hello", chat: true, maxTokens: 6)))
        #expect(choice["finish_reason"] as? String == "length")
        let usage = try #require(object["usage"] as? [String: Any])
        let template = try ChatTemplate.detect(harness.model.file.string("tokenizer.chat_template"))
        let promptTokens = harness.tokenizer.encode(template.render([ChatMessage(role: "user", content: "Hello")]), addBOS: true, parseSpecial: true).count
        #expect(usage["prompt_tokens"] as? Int == promptTokens && usage["completion_tokens"] as? Int == 6 && usage["total_tokens"] as? Int == promptTokens + 6)
        #expect(chat.headers["x-request-id"]?.hasPrefix("req-") == true)

        // keep-alive: the same connection serves the next request
        let text = try #require(client.request("POST", "/v1/completions", body: #"{"prompt":"Once upon a time","max_tokens":5,"temperature":0}"#, headers: harness.auth))
        #expect(text.status == 200)
        let textChoice = try #require((text.json?["choices"] as? [[String: Any]])?.first)
        #expect(textChoice["text"] as? String == (try harness.greedy("Once upon a time", chat: false, maxTokens: 5)))
        #expect(text.json?["object"] as? String == "text_completion")

        let models = try #require(client.request("GET", "/v1/models", headers: harness.auth))
        #expect(((models.json?["data"] as? [[String: Any]])?.first?["id"]) as? String == "qwen2-test")
        #expect(client.request("GET", "/v1/models/qwen2-test", headers: harness.auth)?.json?["object"] as? String == "model")
        #expect(client.request("GET", "/v1/models/other", headers: harness.auth)?.status == 404)
    }

    @Test("the stream is OpenAI's event format, byte for byte in its framing")
    func streamBytes() throws {
        let harness = try Harness()
        defer { harness.close() }
        let client = try harness.client()
        let body = #"{"messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}"#
        let response = try #require(client.request("POST", "/v1/chat/completions", body: body, headers: harness.auth))
        #expect(response.status == 200 && response.headers["content-type"] == "text/event-stream")
        #expect(response.headers["transfer-encoding"] == "chunked")
        let events = response.text.components(separatedBy: "\n\n")
        #expect(events.last == "", "every event ends in a blank line")
        #expect(events.dropLast().allSatisfy { $0.hasPrefix("data: ") && !$0.dropFirst(6).contains("\n") })
        #expect(events[events.count - 2] == "data: [DONE]")
        let chunks = events.dropLast(2).map { try? JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8)) as? [String: Any] }
        #expect(chunks.allSatisfy { $0 != nil })
        let objects = chunks.compactMap { $0 }
        let first = try #require((objects.first?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])
        #expect(first["role"] as? String == "assistant" && first["content"] as? String == "")
        let deltas = objects.dropFirst().compactMap { ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
        let content = deltas.compactMap { $0["content"] as? String }.joined()
        #expect(content == (try harness.greedy("Hi", chat: true, maxTokens: 4)))
        let last = objects[objects.count - 2]
        #expect((last["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String == "length")
        let usage = try #require(objects.last?["usage"] as? [String: Any])
        #expect(usage["completion_tokens"] as? Int == 4 && (objects.last?["choices"] as? [Any])?.isEmpty == true)
        #expect(objects.dropLast().allSatisfy { $0["usage"] is NSNull }, "usage is null on every chunk but the last")
        #expect(Set(objects.compactMap { $0["id"] as? String }).count == 1)
    }

    @Test("authentication: missing, wrong and revoked keys are 401; /health needs none; a revoked key stops working")
    func authentication() throws {
        let harness = try Harness()
        defer { harness.close() }
        let client = try harness.client()
        #expect(client.request("GET", "/health")?.status == 200)
        #expect(client.request("GET", "/v1/models")?.status == 401)
        let wrong = try #require(client.request("GET", "/v1/models", headers: ["Authorization": "Bearer sk-wrong"]))
        #expect(wrong.status == 401 && (wrong.json?["error"] as? [String: Any])?["code"] as? String == "invalid_api_key")
        #expect(client.request("GET", "/metrics")?.status == 401)
        #expect(client.request("GET", "/v1/models", headers: harness.auth)?.status == 200)
        let bob = try KeyStore.add(name: "bob", path: harness.keysPath)
        try KeyStore.revoke(name: "alice", path: harness.keysPath)
        let deadline = Date().addingTimeInterval(5)
        var refused = false
        while Date() < deadline, !refused {
            refused = client.request("GET", "/v1/models", headers: harness.auth)?.status == 401
            if !refused { usleep(200_000) }
        }
        #expect(refused, "a revoked key stops working within seconds, without a restart")
        #expect(client.request("GET", "/v1/models", headers: ["Authorization": "Bearer \(bob)"])?.status == 200)
        let keysFile = try String(contentsOfFile: harness.keysPath, encoding: .utf8)
        #expect(!keysFile.contains(bob) && keysFile.contains("sha256"), "keys rest as hashes only")
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        var body: String
        var param: String?
        var path = "/v1/chat/completions"
        var testDescription: String { body }
    }

    @Test("each invalid parameter is a 400 that names it", arguments: [
        Invalid(body: "{not json", param: nil),
        Invalid(body: #"{"messages":[]}"#, param: "messages"),
        Invalid(body: #"{"model":"qwen2-test"}"#, param: "messages"),
        Invalid(body: #"{"messages":[{"role":"wizard","content":"x"}]}"#, param: "messages[0].role"),
        Invalid(body: #"{"messages":[{"role":"user"}]}"#, param: "messages[0].content"),
        Invalid(body: #"{"messages":[{"role":"user","content":"x"}],"temperature":3}"#, param: "temperature"),
        Invalid(body: #"{"messages":[{"role":"user","content":"x"}],"top_p":0}"#, param: "top_p"),
        Invalid(body: #"{"messages":[{"role":"user","content":"x"}],"max_tokens":0}"#, param: "max_tokens"),
        Invalid(body: #"{"messages":[{"role":"user","content":"x"}],"max_tokens":1.5}"#, param: "max_tokens"),
        Invalid(body: #"{"messages":[{"role":"user","content":"x"}],"stop":[1]}"#, param: "stop"),
        Invalid(body: #"{"messages":[{"role":"user","content":"x"}],"stream":"yes"}"#, param: "stream"),
        Invalid(body: #"{"messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}"#, param: "stream_options"),
        Invalid(body: #"{"messages":[{"role":"user","content":"x"}],"presence_penalty":5}"#, param: "presence_penalty"),
        Invalid(body: #"{"messages":[{"role":"user","content":"x"}],"n":2}"#, param: "n"),
        Invalid(body: #"{"prompt":3}"#, param: "prompt", path: "/v1/completions"),
        Invalid(body: #"{"prompt":"x","seed":"s"}"#, param: "seed", path: "/v1/completions"),
    ])
    func invalid(_ invalid: Invalid) throws {
        let harness = try Harness()
        defer { harness.close() }
        let response = try #require(try harness.client().request("POST", invalid.path, body: invalid.body, headers: harness.auth))
        #expect(response.status == 400, "\(response.text)")
        let error = try #require(response.json?["error"] as? [String: Any])
        #expect(error["type"] as? String == "invalid_request_error" && !(error["message"] as? String ?? "").isEmpty)
        #expect((error["param"] as? String) == invalid.param)
    }

    @Test("a prompt longer than the context is a 400 that says so; unknown routes 404; wrong methods 405")
    func contextAndRoutes() throws {
        let harness = try Harness()
        defer { harness.close() }
        let client = try harness.client()
        let long = String(repeating: "word ", count: 400)
        let response = try #require(client.request("POST", "/v1/completions", body: #"{"prompt":"\#(long)"}"#, headers: harness.auth))
        #expect(response.status == 400 && (response.json?["error"] as? [String: Any])?["code"] as? String == "context_length_exceeded")
        #expect(client.request("GET", "/v2/everything", headers: harness.auth)?.status == 404)
        let wrongMethod = try #require(client.request("GET", "/v1/chat/completions", headers: harness.auth))
        #expect(wrongMethod.status == 405 && wrongMethod.headers["allow"] == "POST")
    }

    @Test("limits: an oversize body is 413, a one-byte-a-second client times out without blocking others")
    func limits() throws {
        var limits = HTTPLimits()
        limits.maxBodyBytes = 1024
        limits.headerTimeout = .seconds(1)
        let harness = try Harness(limits: limits)
        defer { harness.close() }
        let big = try #require(try harness.client().request("POST", "/v1/completions", body: String(repeating: "x", count: 5000), headers: harness.auth))
        #expect(big.status == 413)

        let slow = try harness.client()
        let started = Date()
        let dripping = Thread {
            for byte in Array("GET /health HTTP/1.1\r\nHost: x\r\n".utf8) {
                slow.send([byte])
                usleep(300_000)
            }
        }
        dripping.start()
        #expect(try harness.client().request("GET", "/health")?.status == 200, "others are served meanwhile")
        let answer = slow.response()
        #expect(answer?.status == 408)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test("a full queue is 429 with Retry-After; a client that disconnects while waiting or streaming frees its slot")
    func backpressure() throws {
        // the scheduler starts late, so that the queue fills deterministically
        let harness = try Harness(parallel: 1, queueLimit: 1, startScheduler: false)
        defer { harness.close() }
        let body = #"{"prompt":"Once","max_tokens":100,"stream":true,"temperature":1}"#
        let waiting = try harness.client()
        waiting.send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(harness.key)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        var deadline = Date().addingTimeInterval(5)
        while harness.scheduler.statistics.queued == 0, Date() < deadline { usleep(10_000) }
        let full = try #require(try harness.client().request("POST", "/v1/completions", body: #"{"prompt":"x","max_tokens":1}"#, headers: harness.auth))
        #expect(full.status == 429 && full.headers["retry-after"] == "1", "\(full.status) \(full.text)")
        #expect((full.json?["error"] as? [String: Any])?["code"] as? String == "rate_limit_exceeded")
        waiting.close()
        harness.scheduler.start()
        deadline = Date().addingTimeInterval(10)
        while Date() < deadline, harness.scheduler.statistics.active > 0 || harness.scheduler.statistics.queued > 0 { usleep(20_000) }
        #expect(harness.scheduler.statistics.active == 0 && harness.scheduler.statistics.queued == 0, "the gone client's request was cancelled")
        let after = try #require(try harness.client().request("POST", "/v1/completions", body: #"{"prompt":"x","max_tokens":2}"#, headers: harness.auth))
        #expect(after.status == 200)
        // the gone stream's record says so, and that nothing reached its client
        func goneRecord() -> [String: Any]? {
            ((try? String(contentsOfFile: harness.auditPath, encoding: .utf8)) ?? "").split(separator: "\n")
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .first { $0["status"] as? Int == 499 }
        }
        deadline = Date().addingTimeInterval(5)
        while goneRecord() == nil, Date() < deadline { usleep(20_000) }
        let gone = try #require(goneRecord())
        #expect(gone["clientDisconnected"] as? Bool == true && gone["completion"] as? String == "" && gone["completionTokens"] as? Int == 0)
    }

    @Test("a non-streamed request waiting for a slot: a half-closed client keeps it and gets its answer; a closed one is found by the interim 100 and cancelled")
    func halfCloseAndClose() throws {
        // the scheduler starts late, so that both requests wait while their clients hang up
        let harness = try Harness(parallel: 1, startScheduler: false)
        defer { harness.close() }
        let body = #"{"prompt":"Once","max_tokens":3,"temperature":0}"#
        let request = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(harness.key)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let halfClosed = try harness.client(), closed = try harness.client()
        halfClosed.send(request)
        closed.send(request)
        var deadline = Date().addingTimeInterval(5)
        while harness.scheduler.statistics.queued < 2, Date() < deadline { usleep(10_000) }
        #expect(harness.scheduler.statistics.queued == 2)
        halfClosed.finishSending()
        closed.close()
        func statuses() -> [Int] {
            ((try? String(contentsOfFile: harness.auditPath, encoding: .utf8)) ?? "").split(separator: "\n")
                .compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["status"] as? Int }
        }
        deadline = Date().addingTimeInterval(5)
        while statuses().isEmpty, Date() < deadline { usleep(20_000) }
        #expect(statuses() == [499], "the closed client's request was cancelled; the half-closed one still waits")
        harness.scheduler.start()
        let answer = try #require(halfClosed.response())
        #expect(answer.status == 200 && (answer.json?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 3, "\(answer.text)")
        #expect(halfClosed.readAll().isEmpty, "then the connection is closed")
        #expect(statuses() == [499, 200])
    }

    @Test("the audit log holds one record per request, refused ones too (not /health), and verifies; tampering is found and named")
    func audit() throws {
        let harness = try Harness()
        let client = try harness.client()
        _ = client.request("GET", "/v1/models")
        _ = client.request("POST", "/v1/completions", body: #"{"prompt":"secret prompt","max_tokens":2}"#, headers: harness.auth)
        _ = client.request("POST", "/v1/completions", body: #"{"prompt":"x","top_k":-1}"#, headers: harness.auth)
        _ = client.request("GET", "/health")
        harness.server.stop()
        harness.scheduler.drain()
        defer { try? FileManager.default.removeItem(at: harness.directory) }
        let lines = try String(contentsOfFile: harness.auditPath, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "/health is counted in the metrics, not audited")
        let records = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(records.map { $0["status"] as? Int } == [401, 200, 400])
        #expect(records[1]["identity"] as? String == "alice" && records[1]["prompt"] as? String == "secret prompt")
        #expect(records[1]["completionTokens"] as? Int == 2)
        #expect(records.map { $0["seq"] as? Int } == [1, 2, 3])
        let intact = try AuditVerifier.verify([harness.auditPath])
        #expect(intact.intact && intact.records == 3)

        func tampered(_ change: ([String]) -> [String]) throws -> [String] {
            let path = harness.directory.appendingPathComponent("tampered.jsonl").path
            try (change(lines).joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return try AuditVerifier.verify([path]).findings.map { "\($0.name) \($0.description)" }
        }
        #expect(try tampered { var l = $0; l[1] = l[1].replacingOccurrences(of: "secret prompt", with: "public prompt"); return l }.first?.contains(":2 (record 2): the record was changed") == true)
        #expect(try tampered { var l = $0; l.remove(at: 1); return l }.first?.hasPrefix("broken-link") == true)
        #expect(try tampered { var l = $0; l.insert(l[2], at: 1); return l }.first?.contains(":2 (record 3): the record before it is missing, extra or out of order") == true)
        #expect(try tampered { var l = $0; l.swapAt(1, 2); return l }.first?.contains(":2 (record 3)") == true)
        #expect(try tampered { $0 + ["{\"hash\":\"forged\"}"] }.first?.contains(":4: not a record") == true)
    }

    @Test("rotation keeps the chain: the new file's first record names the old file's last")
    func rotation() throws {
        let harness = try Harness(auditMaxBytes: 4096)
        let client = try harness.client()
        for _ in 0..<30 { _ = client.request("GET", "/v1/models", headers: harness.auth) }
        harness.server.stop()
        harness.scheduler.drain()
        defer { try? FileManager.default.removeItem(at: harness.directory) }
        var files = [harness.auditPath]
        var generation = 1
        while FileManager.default.fileExists(atPath: "\(harness.auditPath).\(generation)") {
            files.insert("\(harness.auditPath).\(generation)", at: 0)
            generation += 1
        }
        #expect(files.count >= 3, "rotated at 4 KiB")
        let whole = try AuditVerifier.verify(files)
        #expect(whole.intact && whole.records == 30 && whole.lastSeq == 30)
        #expect(!(try AuditVerifier.verify(files.reversed()).intact), "out of order, the chain breaks")
    }

    @Test("a caller over its request rate is 429 with Retry-After; bad keys from its address spend a budget of their own, not its")
    func rateLimit() throws {
        let harness = try Harness(rateLimit: 2)
        defer { harness.close() }
        let client = try harness.client()
        let wrong = ["Authorization": "Bearer sk-wrong"]
        let flood = (0..<12).map { _ in client.request("GET", "/v1/models", headers: wrong)?.status }
        #expect(flood.prefix(10).allSatisfy { $0 == 401 } && flood.suffix(2) == [429, 429], "\(flood)")
        let statuses = (0..<4).map { _ in client.request("GET", "/v1/models", headers: harness.auth)?.status }
        #expect(statuses.prefix(2) == [200, 200], "the bad keys did not spend alice's budget: \(statuses)")
        let limited = try #require(client.request("GET", "/v1/models", headers: harness.auth))
        #expect(limited.status == 429 && Int(limited.headers["retry-after"] ?? "") ?? 0 >= 1)
        #expect(client.request("GET", "/health")?.status == 200, "/health has a budget of its own")
        let lines = try String(contentsOfFile: harness.auditPath, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 12, "10 refusals for a bad key and 2 answers recorded; the 429s are only counted")
    }

    @Test("without a chat format, chat completions are a 400 that says so and text completions still work")
    func noChatTemplate() throws {
        let harness = try Harness(withTemplate: false)
        defer { harness.close() }
        let client = try harness.client()
        let chat = try #require(client.request("POST", "/v1/chat/completions", body: #"{"messages":[{"role":"user","content":"x"}]}"#, headers: harness.auth))
        #expect(chat.status == 400 && (chat.json?["error"] as? [String: Any])?["code"] as? String == "no_chat_template")
        #expect(client.request("POST", "/v1/completions", body: #"{"prompt":"x","max_tokens":2}"#, headers: harness.auth)?.status == 200)
    }

    @Test("a request is finished once, whole or streamed: a stream's record is synced before its closing events; each is counted once")
    func finishedOnce() throws {
        let harness = try Harness()
        defer { harness.close() }
        func records() -> [[String: Any]] {
            ((try? String(contentsOfFile: harness.auditPath, encoding: .utf8)) ?? "").split(separator: "\n")
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
        let streaming = try harness.client()
        let body = #"{"prompt":"Once","max_tokens":3,"temperature":0,"stream":true}"#
        streaming.send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(harness.key)\r\n"
                       + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
        // the first closing event: the finish reason; the record must already be on disk, whole
        let received = try #require(streaming.read(through: #""finish_reason":"length""#))
        let id = try #require(received.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-request-id:") }?
            .split(separator: ":").last?.trimmingCharacters(in: .whitespaces))
        let record = try #require(records().first { $0["requestId"] as? String == id })
        #expect(record["status"] as? Int == 200 && record["completed"] as? Bool == true && record["stream"] as? Bool == true)
        #expect(record["completionTokens"] as? Int == 3 && record["finishReason"] as? String == "length")
        #expect(streaming.read(through: "data: [DONE]\n\n") != nil)
        let whole = try #require(try harness.client().request("POST", "/v1/completions", body: #"{"prompt":"Once","max_tokens":2}"#,
                                                             headers: harness.auth))
        #expect(whole.status == 200)
        let ids = records().compactMap { $0["requestId"] as? String }
        #expect(ids.count == Set(ids).count, "one record per request")
        #expect(ids.contains(id) && ids.contains(whole.headers["x-request-id"] ?? "?"))
        let metrics = try #require(try harness.client().request("GET", "/metrics", headers: harness.auth)).text
        #expect(metrics.contains(#"inference_requests_total{route="/v1/completions",status="200"} 2"#), "\(metrics)")
    }

    @Test("metrics are Prometheus text: help, type, labelled counters, histograms")
    func metrics() throws {
        let harness = try Harness()
        defer { harness.close() }
        let client = try harness.client()
        _ = client.request("POST", "/v1/completions", body: #"{"prompt":"Hello","max_tokens":3}"#, headers: harness.auth)
        let text = try #require(client.request("GET", "/metrics", headers: harness.auth)).text
        #expect(text.contains("# TYPE inference_requests_total counter"))
        #expect(text.contains(#"inference_requests_total{route="/v1/completions",status="200"} 1"#))
        #expect(text.contains("inference_generated_tokens_total 3"))
        #expect(text.contains(#"inference_time_to_first_token_seconds_bucket{le="+Inf"} 1"#))
        #expect(text.contains("inference_parallel_slots 4"))
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            #expect(line.split(separator: " ").count == 2, "sample lines are NAME{labels} VALUE: \(line)")
        }
    }

    @Test("greedy output through the server is the same alone and while 7 other requests decode beside it")
    func batchingKeepsResults() throws {
        let harness = try Harness(parallel: 8)
        defer { harness.close() }
        let expected = try harness.greedy("The llama", chat: false, maxTokens: 10)
        let body = #"{"prompt":"The llama","max_tokens":10,"temperature":0}"#
        #expect((try harness.client().request("POST", "/v1/completions", body: body, headers: harness.auth)?.json?["choices"] as? [[String: Any]])?.first?["text"] as? String == expected)
        let results = Results()
        let threads = (0..<8).map { index in
            Thread {
                let prompt = index == 0 ? body : #"{"prompt":"Other prompt \#(index)","max_tokens":10,"temperature":0.9}"#
                let text = ((try? harness.client().request("POST", "/v1/completions", body: prompt, headers: harness.auth))??.json?["choices"] as? [[String: Any]])?.first?["text"] as? String
                results.set(index, text)
            }
        }
        threads.forEach { $0.start() }
        let deadline = Date().addingTimeInterval(30)
        while results.count < 8, Date() < deadline { usleep(20_000) }
        #expect(results.get(0) == expected)
    }

    final class Results: @unchecked Sendable {
        // @unchecked: guarded by the lock
        private let lock = NSLock()
        private var values: [Int: String?] = [:]
        func set(_ index: Int, _ value: String?) { lock.withLock { values[index] = value } }
        func get(_ index: Int) -> String? { lock.withLock { values[index] ?? nil } }
        var count: Int { lock.withLock { values.count } }
    }
}
