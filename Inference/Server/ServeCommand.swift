import Foundation
import GGUF
import InferenceEngine
import InferenceService
import Synchronization
import TextSafety

/// `inference-server serve`: the OpenAI-compatible API. It listens at once (answering /health with 503 while the
/// model loads), serves with continuous batching, and on SIGTERM or SIGINT stops accepting, finishes the requests
/// in flight and exits 0.
enum Serve {
    static let usage = """
        USAGE: inference-server serve --model FILE (--keys FILE | --no-auth) [--host 127.0.0.1] [--port 8080]
                                      [--audit-log FILE] [--audit-content full|digest] [--audit-max-bytes N]
                                      [--audit-key FILE] [--audit-checkpoints DIR] [--audit-checkpoint-records 256]
                                      [--audit-checkpoint-seconds 60]
                                      [--threads N] [--parallel N] [--ctx N] [--rate-limit N] [--model-id NAME]
                                      [--chat-template NAME] [--max-connections N] [--max-connections-per-client N]
                                      [--write-timeout SECONDS] [--handshake-timeout SECONDS] [--drain-seconds 30]
                                      [--tls-cert FILE --tls-key FILE] [--policy FILE [--quota-state FILE]]
                                      [--no-prefix-reuse] [--kernels portable|avx2|avx512] [--attention exact|flash]
               --ctx is each parallel slot's context (default: the model's, at most 4096).
               --audit-key: the Ed25519 key (PEM) that signs the audit log's checkpoints, made (mode 0600) if missing;
               their files go to --audit-checkpoints (default: the audit log's path + .checkpoints) for shipping.
               --rate-limit N is each API key's requests a second (bursts of 2N; default 50, 0: none; with --no-auth, each
                 address's), counted after authentication. Whatever it is, /health takes 10 a second per address (bursts of
                 20) and requests without a valid key 1 a second per address (bursts of 10) and 20 a second from all addresses
                 together (bursts of 100); an IPv6 client is its /64. Requests over a budget get 429
                 with Retry-After and are counted in the metrics and in one audit summary record at most every 10 s, not
                 one record each.
               --max-connections (default 64) bounds connections in all, --max-connections-per-client (default 32, at most
                 the former) those from one address. With every slot (or its address's) taken, a new connection takes the slot
                 of the one that has waited longest without a whole request (idle, or still sending its head or body); only when
                 those are all busy answering is it turned away: plain HTTP with 503 and Retry-After, TLS with a closed
                 connection. A new connection's first byte must come within 5 s and its first head within 10 s.
               --write-timeout (default 30) drops a client that does not take a response (or a streamed chunk) in time;
               --handshake-timeout (default 10) bounds the whole TLS handshake.
               --policy: the guardrail policy (JSON5): what is masked, blocked or logged in prompts and answers, and each
                 key's quotas. Re-read when it changes; an edit with a mistake is refused (logged here, counted in /metrics)
                 and the last good policy stays. Quota counters are kept in --quota-state (default: the audit log's path +
                 .quotas), so that a restart does not reset them.
               --drain-seconds (default 30, 0 to 3600): on SIGTERM or SIGINT, how long the requests in flight have to
                 finish; what still runs then ends with an error its client is sent (a stream's last event), and the
                 connection is closed. Set it to the load balancer's deregistration delay or a lifecycle hook's timeout.
        """

    static let stop = Atomic<Bool>(false)

    static func run(_ arguments: [String]) throws {
        let options = try Arguments("serve", arguments, valued: [
            "--model", "--host", "--port", "--keys", "--audit-log", "--audit-content", "--audit-max-bytes", "--audit-key", "--audit-checkpoints",
            "--audit-checkpoint-records", "--audit-checkpoint-seconds", "--threads", "--parallel",
            "--ctx", "--rate-limit", "--model-id", "--chat-template", "--max-connections", "--tls-cert", "--tls-key", "--kernels", "--attention",
            "--max-connections-per-client", "--write-timeout", "--handshake-timeout", "--drain-seconds",
            "--policy", "--quota-state",
        ], switches: ["--no-auth", "--no-prefix-reuse"], aliases: ["-m": "--model", "-t": "--threads", "-c": "--ctx", "-np": "--parallel"], usage: usage)
        let path = try options.required("--model")
        let host = options.string("--host") ?? "127.0.0.1"
        let port = try options.int("--port", default: 8080, range: 0...65535)
        let threads = try options.int("--threads", default: Workers.available, range: 1...1024)
        let parallel = try options.int("--parallel", default: 4, range: 1...256)
        let rate = try options.int("--rate-limit", default: 50, range: 0...100_000)
        let maxConnections = try options.int("--max-connections", default: 64, range: 1...10_000)
        let maxConnectionsPerClient = try options.int("--max-connections-per-client",
                                                      default: min(HTTPServer.Configuration.defaultMaxConnectionsPerClient, maxConnections), range: 1...maxConnections)
        let writeTimeout = try options.int("--write-timeout", default: 30, range: 1...3600)
        let handshakeTimeout = try options.int("--handshake-timeout", default: 10, range: 1...3600)
        let drainSeconds = try options.int("--drain-seconds", default: 30, range: 0...3600)
        guard options.has("--no-auth") != (options.string("--keys") != nil) else {
            throw Arguments.Invalid(description: "serve: give --keys FILE (create one with: inference-server keys add NAME --keys FILE) or, explicitly, --no-auth")
        }
        let content = options.string("--audit-content") ?? "full"
        guard let auditContent = AuditLog.Content(rawValue: content) else {
            throw Arguments.Invalid(description: "serve: --audit-content is full or digest, not '\(SafeText.quoted(content))'")
        }
        if let name = options.string("--chat-template"), ChatTemplate(name: name) == nil {
            throw Arguments.Invalid(description: "serve: unknown --chat-template '\(SafeText.quoted(name))' (known: \(ChatTemplate.names.joined(separator: ", ")))")
        }
        let keys = try options.string("--keys").map { path throws in try KeyStore(path: path) }
        // past a file-size limit a write should fail with EFBIG, which the audit log handles, not kill the server
        signal(SIGXFSZ, SIG_IGN)
        let (audit, auditKeyNote) = try openAudit(options, content: auditContent)
        if let torn = audit?.recoveredTail {
            FileHandle.standardError.write(Data(("inference-server: the audit log ended in a torn record (\(torn.count) bytes after its last "
                + "newline, SHA-256 \(torn.sha256)): cut off, and recorded in the chain after the start checkpoint\n").utf8))
        }
        let (policy, quotas, quotaFile) = try openPolicy(options, auditPath: audit?.path)
        let file = try GGUFFile.open(path)
        let modelID = options.string("--model-id") ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension

        var serviceOptions = OpenAIService.Options(keys: keys, audit: audit,
                                                   rateLimiter: rate > 0 ? RateLimiter(rate: Double(rate), burst: Double(2 * rate)) : nil)
        serviceOptions.policy = policy
        serviceOptions.quotas = quotas
        serviceOptions.onPolicyReload = { reload in
            let line = switch reload {
            case .loaded(let sha256): "inference-server: guardrail policy reloaded (SHA-256 \(sha256))\n"
            case .rejected(let message): "inference-server: \(message)\n"
            }
            FileHandle.standardError.write(Data(line.utf8))
        }
        let service = OpenAIService(options: serviceOptions)
        var configuration = HTTPServer.Configuration(host: host, port: port)
        configuration.maxConnections = maxConnections
        configuration.maxConnectionsPerClient = maxConnectionsPerClient
        configuration.limits.writeTimeout = .seconds(writeTimeout)
        configuration.limits.handshakeTimeout = .seconds(handshakeTimeout)
        configuration.onRefusal = { service.recordRefusal($0) }
        guard (options.string("--tls-cert") == nil) == (options.string("--tls-key") == nil) else {
            throw Arguments.Invalid(description: "serve: --tls-cert and --tls-key go together")
        }
        var scheme = "http"
        if let certificate = options.string("--tls-cert"), let key = options.string("--tls-key") {
            do {
                let tls = try TLSContext(certificate: certificate, key: key)
                configuration.tls = tls
                scheme = "https"
            } catch {
                throw Arguments.Invalid(description: "serve: \(error.description)")
            }
        }
        let server: HTTPServer
        do {
            server = try HTTPServer(configuration) { service.handle($0) }
        } catch {
            throw Arguments.Invalid(description: "serve: \(error.description)")
        }
        server.serve()
        if keys == nil {
            FileHandle.standardError.write(Data("inference-server: WARNING: authentication is off (--no-auth): anyone who can reach \(host):\(server.port) can use the model\n".utf8))
        }

        let kernels = try options.kernels()
        let attention = try options.attention()
        let model = try Transformer(file, workers: Workers(threads: threads), kernels: kernels, attention: attention)
        let tokenizer = try Tokenizer(Vocabulary(file))
        let template: Result<ChatTemplate, ChatTemplate.Unknown> = options.string("--chat-template").flatMap(ChatTemplate.init(name:))
            .map { .success($0) } ?? Result { () throws(ChatTemplate.Unknown) in try ChatTemplate.detect(file.string("tokenizer.chat_template"), architecture: file.string("general.architecture")) }
        let context = try options.int("--ctx", default: min(model.config.contextLength, 4096), range: 16...model.config.contextLength)
        let scheduler = Scheduler(model: model, tokenizer: tokenizer, configuration: .init(parallel: parallel, contextPerSlot: context,
                                                                                                    reusePrefixes: !options.has("--no-prefix-reuse")))
        scheduler.start()
        service.serve(ServedModel(id: modelID, created: Int(Date().timeIntervalSince1970), scheduler: scheduler, tokenizer: tokenizer,
                                  chatTemplate: template, context: context))
        let hostText = host.contains(":") ? "[\(host)]" : host
        let line = "inference-server: listening on \(scheme)://\(hostText):\(server.port) — model \(modelID), \(parallel) parallel slots of \(context) tokens, \(threads) threads on the \(kernels.rawValue) kernels, \(attention.rawValue) attention"
            + (model.weights.repackedBytes > 0 ? " (\(model.weights.repackedBytes >> 20) MiB of weights copied into their memory)" : "") + ", "
            + (keys.map { "auth on (\($0.path))" } ?? "auth OFF") + (audit.map { ", audit log \($0.path)" } ?? "") + auditKeyNote
            + (policy.map { ", guardrail policy \($0.path) (SHA-256 \($0.current().policy.sha256.prefix(16)))" } ?? "")
            + (quotaFile.map { ", quota counters \($0.path)" } ?? "") + "\n"
        FileHandle.standardOutput.write(Data(line.utf8))
        if case .failure(let reason) = template {
            FileHandle.standardError.write(Data("inference-server: chat completions are off: \(reason.description)\n".utf8))
        }

        for number in [SIGTERM, SIGINT] { signal(number) { _ in Serve.stop.store(true, ordering: .relaxed) } }
        // a blocked signal mask survives exec: a server started by a process that blocks SIGTERM (a test runner, some
        // supervisors) would otherwise never hear it and never stop
        var stopping = sigset_t()
        sigemptyset(&stopping)
        sigaddset(&stopping, SIGTERM)
        sigaddset(&stopping, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &stopping, nil)
        while !stop.load(ordering: .relaxed) { usleep(100_000) }
        FileHandle.standardError.write(Data("inference-server: stopping: finishing the requests in flight (at most \(drainSeconds) s)\n".utf8))
        scheduler.beginDraining(cuttingAfter: .seconds(drainSeconds))
        // the scheduler ends what still runs at the limit, which ends those connections' answers; a few seconds more for
        // their last bytes, then whatever is still open is cut
        let cut = server.stop(timeout: .seconds(drainSeconds + 5))
        scheduler.drain()
        if cut > 0 {
            FileHandle.standardError.write(Data("inference-server: closed \(cut) connection(s) still open after the drain\n".utf8))
        }
        service.flushRefusals()
        quotaFile?.flush()
        do {
            try audit?.close()
        } catch {
            FileHandle.standardError.write(Data("inference-server: \(error.description)\n".utf8))
            exit(1)
        }
        FileHandle.standardError.write(Data("inference-server: stopped\n".utf8))
    }

    /// The guardrail policy of `--policy`, and the quota counters beside the audit log (or in `--quota-state`).
    private static func openPolicy(_ options: Arguments, auditPath: String?) throws -> (GuardrailPolicyStore?, QuotaLedger?, QuotaStateFile?) {
        guard let path = options.string("--policy") else {
            if options.string("--quota-state") != nil { throw Arguments.Invalid(description: "serve: --quota-state needs --policy") }
            return (nil, nil, nil)
        }
        let store = try GuardrailPolicyStore(path: path)
        let policy = store.current().policy
        if ([policy.defaultProfile] + policy.profiles).allSatisfy({ $0.rules.isEmpty }) && !policy.hasQuotas {
            FileHandle.standardError.write(Data("inference-server: WARNING: the guardrail policy \(path) has no rules and no quotas: every request passes as it is\n".utf8))
        }
        guard let statePath = options.string("--quota-state") ?? auditPath.map({ $0 + ".quotas" }) else {
            if store.current().policy.hasQuotas {
                FileHandle.standardError.write(Data("inference-server: WARNING: the policy sets quotas but there is no --audit-log or --quota-state: their counters are kept in memory only and start from zero at every restart\n".utf8))
            }
            return (store, QuotaLedger(), nil)
        }
        let file = QuotaStateFile(path: statePath) { failure in
            let line = failure.map { "inference-server: WARNING: the quota counters are not being kept: \($0)\n" }
                ?? "inference-server: the quota counters are kept again in \(statePath)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
        do {
            return (store, try file.openLedger(), file)
        } catch {
            throw Arguments.Invalid(description: "serve: \(error.description)")
        }
    }

    /// The audit log of `--audit-log`, its checkpoints signed with `--audit-key` (made when missing), and what the
    /// startup line says of the key.
    private static func openAudit(_ options: Arguments, content: AuditLog.Content) throws -> (AuditLog?, String) {
        guard let path = options.string("--audit-log") else {
            for flag in ["--audit-key", "--audit-checkpoints", "--audit-checkpoint-records", "--audit-checkpoint-seconds"] where options.string(flag) != nil {
                throw Arguments.Invalid(description: "serve: \(flag) needs --audit-log")
            }
            return (nil, "")
        }
        let maxBytes = try options.int("--audit-max-bytes", default: 256 << 20, range: 4096...Int.max)
        guard let keyPath = options.string("--audit-key") else {
            if options.string("--audit-checkpoints") != nil { throw Arguments.Invalid(description: "serve: --audit-checkpoints needs --audit-key") }
            FileHandle.standardError.write(Data("inference-server: WARNING: the audit log has no --audit-key: without signed checkpoints, records cut from its end or a chain recomputed whole go unnoticed\n".utf8))
            return (try AuditLog(path: path, content: content, maxBytes: maxBytes), "")
        }
        let records = try options.int("--audit-checkpoint-records", default: 256, range: 1...1_000_000)
        let seconds = try options.int("--audit-checkpoint-seconds", default: 60, range: 1...86_400)
        let directory = options.string("--audit-checkpoints") ?? AuditLog.Checkpointing.defaultDirectory(log: path)
        let (key, created) = try AuditKey.loadOrCreate(keyPath)
        let log = try AuditLog(path: path, content: content, maxBytes: maxBytes,
                               checkpointing: .init(key: key, directory: directory, everyRecords: records, everySeconds: Double(seconds)))
        return (log, ", checkpoints signed by \(key.publicKey.openSSHFingerprint)\(created ? " (a new key in \(keyPath))" : "") in \(directory)")
    }
}
