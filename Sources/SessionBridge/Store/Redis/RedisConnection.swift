#if canImport(Glibc)
import Glibc
#endif
import CHiredis

/// One connection to a Redis server: connect (bounded), AUTH with an ACL user, SELECT, then binary-safe commands
/// (`redisCommandArgv`) and pipelines, each bounded by a command timeout. Not for concurrent use: a caller owns it
/// (the engine keeps a pool).
///
/// After any I/O failure (refused, reset, timed out, closed by the server) the connection drops its socket and the
/// next call connects again; a command that failed that way may or may not have run, so the engine only sends
/// commands that are safe to repeat. A blocking read gets a timeout just above its BLOCK so a half-open link
/// (no FIN ever arrives) cannot hang it.
package final class RedisConnection: @unchecked Sendable {
    package let configuration: RedisConfiguration
    package let connectTimeoutMilliseconds: Int
    package let commandTimeoutMilliseconds: Int
    private var context: UnsafeMutablePointer<redisContext>?

    /// Bounds taken from the configuration: `hook` uses the short hook bounds.
    package convenience init(_ configuration: RedisConfiguration, hook: Bool = false) {
        self.init(configuration,
                  connectTimeoutMilliseconds: hook ? configuration.hookConnectTimeoutMilliseconds : configuration.connectTimeoutMilliseconds,
                  commandTimeoutMilliseconds: hook ? configuration.hookCommandTimeoutMilliseconds : configuration.commandTimeoutMilliseconds)
    }

    package init(_ configuration: RedisConfiguration, connectTimeoutMilliseconds: Int, commandTimeoutMilliseconds: Int) {
        self.configuration = configuration
        self.connectTimeoutMilliseconds = max(1, connectTimeoutMilliseconds)
        self.commandTimeoutMilliseconds = max(1, commandTimeoutMilliseconds)
    }

    deinit { close() }

    package var isConnected: Bool { context != nil }

    /// Closes the socket; the next command connects again.
    package func close() {
        if let context { redisFree(context) }
        context = nil
    }

    /// Connects, authenticates and selects the database, unless already connected.
    package func connect() throws(RedisError) {
        if context != nil { return }
        let c = RedisSignals.withoutSIGPIPE {
            redisConnectWithTimeout(configuration.host, configuration.port, Self.timeval(connectTimeoutMilliseconds))
        }
        guard let c else { throw .unreachable(endpoint: configuration.endpoint, reason: "out of memory") }
        if c.pointee.err != 0 {
            let reason = Self.reason(c)
            redisFree(c)
            throw .unreachable(endpoint: configuration.endpoint, reason: reason)
        }
        _ = redisSetTimeout(c, Self.timeval(commandTimeoutMilliseconds))
        _ = redisEnableKeepAlive(c)
        context = c
        do throws(RedisError) {
            try handshake()
        } catch {
            close()
            throw error
        }
    }

    /// AUTH (with the ACL user when one is named) and SELECT on a fresh connection.
    private func handshake() throws(RedisError) {
        if let password = configuration.password {
            var auth = ["AUTH"]
            if let user = configuration.user { auth.append(user) }
            auth.append(password)
            if case .error(let text) = try raw(auth.map { Array($0.utf8) }) {
                if text.hasPrefix("WRONGPASS") || text.contains("invalid password") || text.contains("invalid username") {
                    throw .authRefused(user: configuration.userName)
                }
                throw classify(text)
            }
        }
        if configuration.database != 0 {
            if case .error(let text) = try raw([Array("SELECT".utf8), Array(String(configuration.database).utf8)]) {
                let error = classify(text)
                if case .server = error { throw .badConfiguration("database \(configuration.database): \(text)") }
                throw error
            }
        }
    }

    /// Connects, retrying an unreachable server with a doubling pause (10 ms up to 500 ms) until `deadline`
    /// (monotonic nanoseconds). Refused credentials and other answers are not retried.
    package func connect(retryingUntil deadline: UInt64) throws(RedisError) {
        var pause: UInt64 = 10_000_000
        while true {
            do throws(RedisError) {
                try connect()
                return
            } catch {
                guard case .unreachable = error else { throw error }
                let now = RedisClock.now()
                if now >= deadline { throw error }
                RedisClock.sleep(nanoseconds: min(pause, deadline - now))
                pause = min(pause * 2, 500_000_000)
            }
        }
    }

    /// Runs a command that is safe to repeat, reconnecting with backoff after a lost connection (a restart, a
    /// server still loading its data) until `deadline` (monotonic nanoseconds).
    @discardableResult
    package func callRetrying(bytes args: [[UInt8]], until deadline: UInt64) throws(RedisError) -> RedisReply {
        var pause: UInt64 = 10_000_000
        while true {
            do throws(RedisError) {
                try connect(retryingUntil: deadline)
                return try call(bytes: args)
            } catch {
                guard case .unreachable = error else { throw error }
                let now = RedisClock.now()
                if now >= deadline { throw error }
                RedisClock.sleep(nanoseconds: min(pause, deadline - now))
                pause = min(pause * 2, 500_000_000)
            }
        }
    }

    /// Runs one command; an error reply is thrown as a structured error.
    @discardableResult
    package func call(_ args: [String]) throws(RedisError) -> RedisReply {
        try call(bytes: args.map { Array($0.utf8) })
    }

    /// Runs one command with binary arguments; an error reply is thrown as a structured error.
    @discardableResult
    package func call(bytes args: [[UInt8]], timeoutMilliseconds: Int? = nil) throws(RedisError) -> RedisReply {
        let reply = try send(bytes: args, timeoutMilliseconds: timeoutMilliseconds)
        if case .error(let text) = reply { throw classify(text) }
        return reply
    }

    /// Runs one command, returning an error reply as `.error` (for callers that expect some, e.g. BUSYGROUP).
    /// `timeoutMilliseconds` replaces the command timeout for this call (a blocking read: BLOCK plus a margin).
    package func send(bytes args: [[UInt8]], timeoutMilliseconds: Int? = nil) throws(RedisError) -> RedisReply {
        try connect()
        guard let c = context else { throw .unreachable(endpoint: configuration.endpoint, reason: "not connected") }
        if let timeoutMilliseconds { _ = redisSetTimeout(c, Self.timeval(timeoutMilliseconds)) }
        let reply = try raw(args)
        if timeoutMilliseconds != nil, let c = context { _ = redisSetTimeout(c, Self.timeval(commandTimeoutMilliseconds)) }
        return reply
    }

    package func send(_ args: [String], timeoutMilliseconds: Int? = nil) throws(RedisError) -> RedisReply {
        try send(bytes: args.map { Array($0.utf8) }, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Sends several commands in one round trip and returns their replies in order (error replies as `.error`).
    package func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        if commands.isEmpty { return [] }
        try connect()
        guard let c = context else { throw .unreachable(endpoint: configuration.endpoint, reason: "not connected") }
        for args in commands {
            let status = Self.withArgv(args) { argc, argv, lens in redisAppendCommandArgv(c, argc, argv, lens) }
            guard status == REDIS_OK else { throw fail(c) }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var out: UnsafeMutableRawPointer?
            let status = RedisSignals.withoutSIGPIPE { redisGetReply(c, &out) }
            guard status == REDIS_OK, let out else { throw fail(c) }
            let r = out.assumingMemoryBound(to: redisReply.self)
            replies.append(Self.decode(r))
            freeReplyObject(out)
        }
        return replies
    }

    package func pipeline(_ commands: [[String]]) throws(RedisError) -> [RedisReply] {
        try pipeline(commands.map { $0.map { Array($0.utf8) } })
    }

    /// Maps an error reply to a structured error: credentials, permissions, or the server's own text.
    package func classify(_ text: String) -> RedisError {
        if text.hasPrefix("NOAUTH") || text.hasPrefix("WRONGPASS") { return .authRefused(user: configuration.userName) }
        // A server that restarted answers LOADING until its AOF is read back: not there yet, as if still down.
        if text.hasPrefix("LOADING") { return .unreachable(endpoint: configuration.endpoint, reason: "Redis is loading its data") }
        if text.hasPrefix("NOPERM") || text.contains("can't access at least one of the keys")
            || text.contains("has no permissions") {
            return .noPermission(user: configuration.userName, detail: text)
        }
        return .server(text)
    }

    // MARK: - hiredis

    private func raw(_ args: [[UInt8]]) throws(RedisError) -> RedisReply {
        guard let c = context else { throw .unreachable(endpoint: configuration.endpoint, reason: "not connected") }
        let out = Self.withArgv(args) { argc, argv, lens in
            RedisSignals.withoutSIGPIPE { redisCommandArgv(c, argc, argv, lens) }
        }
        guard let out else { throw fail(c) }
        let r = out.assumingMemoryBound(to: redisReply.self)
        let reply = Self.decode(r)
        freeReplyObject(out)
        return reply
    }

    /// The error of a failed I/O call; the connection is dropped.
    private func fail(_ c: UnsafeMutablePointer<redisContext>) -> RedisError {
        let reason = Self.reason(c)
        close()
        return .unreachable(endpoint: configuration.endpoint, reason: reason)
    }

    private static func reason(_ c: UnsafeMutablePointer<redisContext>) -> String {
        let text = withUnsafeBytes(of: c.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        switch text {
        case "Resource temporarily unavailable": return "timed out"
        case "": return "connection failed (hiredis error \(c.pointee.err))"
        default: return text
        }
    }

    private static func withArgv<T>(_ args: [[UInt8]],
                                    _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int>?) -> T) -> T {
        // One buffer holds every argument back to back; hiredis reads each through its pointer and length.
        var total = 0
        for a in args { total += a.count }
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: max(total, 1))
        defer { storage.deallocate() }
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(args.count)
        var lengths: [Int] = []
        lengths.reserveCapacity(args.count)
        var offset = 0
        for a in args {
            a.withUnsafeBytes { src in
                if let base = src.baseAddress, src.count > 0 {
                    UnsafeMutableRawPointer(storage + offset).copyMemory(from: base, byteCount: src.count)
                }
            }
            pointers.append(UnsafePointer(storage + offset))
            lengths.append(a.count)
            offset += a.count
        }
        return pointers.withUnsafeMutableBufferPointer { p in
            lengths.withUnsafeBufferPointer { l in body(Int32(args.count), p.baseAddress, l.baseAddress) }
        }
    }

    static func decode(_ r: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let reply = r.pointee
        switch reply.type {
        case REDIS_REPLY_STRING:
            return .bulk(bytes(reply.str, reply.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(reply.str, reply.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(reply.str, reply.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(reply.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(reply.elements)
            for i in 0..<reply.elements {
                if let e = reply.element?[i] { items.append(decode(e)) } else { items.append(.null) }
            }
            return .array(items)
        default:
            return .null
        }
    }

    private static func bytes(_ p: UnsafeMutablePointer<CChar>?, _ n: Int) -> [UInt8] {
        guard let p, n > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n).bindMemory(to: UInt8.self))
    }

    static func timeval(_ milliseconds: Int) -> Glibc.timeval {
        Glibc.timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
    }
}

/// hiredis writes with write(2): on a connection the server closed, that raises SIGPIPE, which would kill the
/// process. The signal is blocked on the calling thread for the call, and one it raised is consumed.
enum RedisSignals {
    static func withoutSIGPIPE<T>(_ body: () -> T) -> T {
        var pipe = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        var old = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipe, &old)
        if sigismember(&old, SIGPIPE) == 1 { return body() }
        var before = sigset_t()
        sigpending(&before)
        let result = body()
        if sigismember(&before, SIGPIPE) == 0 {
            var after = sigset_t()
            sigpending(&after)
            if sigismember(&after, SIGPIPE) == 1 {
                var zero = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&pipe, nil, &zero)
            }
        }
        pthread_sigmask(SIG_SETMASK, &old, nil)
        return result
    }
}

/// Monotonic time for connect retries and blocking-read deadlines.
enum RedisClock {
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func sleep(nanoseconds: UInt64) {
        var ts = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var left = timespec()
        while nanosleep(&ts, &left) != 0 && errno == EINTR { ts = left }
    }
}
