import Foundation
import Testing
@testable import SessionBridge

@Suite(.enabled(if: RedisTestServer.enabled, RedisTestServer.skipReason), .serialized)
struct RedisConnectionTests {
    @Test func binarySafeArgumentsAndEveryReplyShape() throws {
        let server = try RedisTestServer()
        let c = RedisConnection(server.configuration())
        #expect(try c.call(["PING"]) == .status("PONG"))
        let everyByte = (0..<4).flatMap { _ in (0...255).map(UInt8.init) }
        let keyWithNUL: [UInt8] = Array("k\u{0}ey\r\n".utf8)
        try c.call(bytes: [Array("SET".utf8), keyWithNUL, everyByte])
        #expect(try c.call(bytes: [Array("GET".utf8), keyWithNUL]) == .bulk(everyByte))
        #expect(try c.call(bytes: [Array("GET".utf8), Array("k".utf8)]) == .null, "a key that differs after the NUL is another key")
        let big = [UInt8](repeating: 0x5a, count: 3 << 20)
        try c.call(bytes: [Array("SET".utf8), Array("big".utf8), big])
        #expect(try c.call(["STRLEN", "big"]) == .integer(Int64(big.count)))
        try c.call(bytes: [Array("SET".utf8), Array("empty".utf8), []])
        #expect(try c.call(["GET", "empty"]) == .bulk([]))
        #expect(try c.call(["INCR", "n"]) == .integer(1))
        #expect(try c.call(["RPUSH", "l", "a", "b"]) == .integer(2))
        #expect(try c.call(["LRANGE", "l", "0", "-1"]) == .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8))]))
        #expect(try c.call(["EVAL", "return {1, 'x', {false}, nil}", "0"]) == .array([.integer(1), .bulk(Array("x".utf8)), .array([.null])]))
        #expect(try c.send(["NOSUCHCOMMAND"]).errorCode == "ERR")
        #expect(throws: RedisError.self) { try c.call(["HGET", "n", "f"]) }
        do { try c.call(["HGET", "n", "f"]) } catch {
            guard case .server(let text) = error, text.hasPrefix("WRONGTYPE") else { Issue.record("\(error)"); return }
        }
        #expect(try c.call(["PING"]) == .status("PONG"), "an error reply leaves the connection usable")
    }

    @Test func pipelineAnswersInOrderInOneRoundTrip() throws {
        let server = try RedisTestServer()
        let c = RedisConnection(server.configuration())
        let replies = try c.pipeline((1...200).map { _ in ["INCR", "p"] } + [["HGET", "p", "x"], ["GET", "p"]])
        #expect(replies.prefix(200) == ArraySlice((1...200).map { RedisReply.integer(Int64($0)) }))
        #expect(replies[200].errorCode == "WRONGTYPE")
        #expect(replies[201] == .bulk(Array("200".utf8)))
    }

    @Test func credentialsAndACLRefusalsNameTheUser() throws {
        let server = try RedisTestServer(password: "adm1n")
        #expect(throws: RedisError.authRefused(user: "default")) {
            try RedisConnection(server.configuration(password: "wrong")).call(["PING"])
        }
        var anonymous = server.configuration()
        anonymous.password = nil
        #expect(throws: RedisError.authRefused(user: "default"), "a server wanting a password, none given") {
            try RedisConnection(anonymous).call(["PING"])
        }
        #expect(try server.admin(["ACL", "SETUSER", "alice", "on", ">al1ce", "~alice:*", "+@all"]) == .status("OK"))
        let alice = RedisConnection(server.configuration(user: "alice", password: "al1ce"))
        #expect(try alice.call(["ACL", "WHOAMI"]) == .bulk(Array("alice".utf8)))
        try alice.call(["SET", "alice:x", "1"])
        do {
            try alice.call(["SET", "bob:x", "1"])
            Issue.record("alice wrote outside her prefix")
        } catch {
            guard case .noPermission(let user, _) = error else { Issue.record("\(error)"); return }
            #expect(user == "alice")
        }
        do {
            try alice.call(["EVAL", "return redis.call('GET', 'bob:x')", "0"])
            Issue.record("alice read outside her prefix from a script")
        } catch {
            guard case .noPermission(let user, _) = error else { Issue.record("\(error)"); return }
            #expect(user == "alice")
        }
        #expect(throws: RedisError.authRefused(user: "alice")) {
            try RedisConnection(server.configuration(user: "alice", password: "nope")).call(["PING"])
        }
        #expect(throws: RedisError.authRefused(user: "mallory")) {
            try RedisConnection(server.configuration(user: "mallory", password: "al1ce")).call(["PING"])
        }
        try server.admin(["ACL", "SETUSER", "alice", "off"])
        #expect(throws: RedisError.authRefused(user: "alice"), "a disabled user") {
            try RedisConnection(server.configuration(user: "alice", password: "al1ce")).call(["PING"])
        }
    }

    @Test func selectKeepsDatabasesApart() throws {
        let server = try RedisTestServer()
        var one = server.configuration()
        one.database = 1
        try RedisConnection(one).call(["SET", "only-in-1", "x"])
        #expect(try RedisConnection(server.configuration()).call(["GET", "only-in-1"]) == .null)
        #expect(try RedisConnection(one).call(["GET", "only-in-1"]) == .bulk(Array("x".utf8)))
        var missing = server.configuration()
        missing.database = 999
        #expect(throws: RedisError.self) { try RedisConnection(missing).call(["PING"]) }
        do { try RedisConnection(missing).call(["PING"]) } catch {
            if case .badConfiguration = error {} else { Issue.record("\(error)") }
        }
    }

    @Test func aClosedPortIsUnreachableAtOnce() throws {
        let config = RedisConfiguration(host: "127.0.0.1", port: RedisTestServer.freePort())
        let start = Date()
        do {
            try RedisConnection(config, hook: true).call(["PING"])
            Issue.record("connected to a closed port")
        } catch {
            guard case .unreachable(let endpoint, _) = error else { Issue.record("\(error)"); return }
            #expect(endpoint == config.endpoint)
        }
        #expect(Date().timeIntervalSince(start) < 0.5)
    }

    /// A listener whose backlog is full never completes a handshake: the connect timeout alone ends the attempt.
    @Test func aServerThatNeverAcceptsIsBoundedByTheConnectTimeout() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        listen(fd, 0)
        let port = Int32(UInt16(bigEndian: addr.sin_port))
        var fillers: [Int32] = []
        defer { fillers.forEach { close($0) } }
        for _ in 0..<8 {   // fill the backlog with handshakes nobody accepts
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, len) } }
            fillers.append(s)
        }
        var config = RedisConfiguration(host: "127.0.0.1", port: port)
        config.hookConnectTimeoutMilliseconds = 60
        config.hookCommandTimeoutMilliseconds = 100
        let start = Date()
        #expect(throws: RedisError.self) { try RedisConnection(config, hook: true).call(["PING"]) }
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed < 0.6, "gave up after \(elapsed) s")
    }

    @Test func aHungServerIsBoundedByTheCommandTimeout() throws {
        let server = try RedisTestServer()
        let c = RedisConnection(server.configuration(), connectTimeoutMilliseconds: 100, commandTimeoutMilliseconds: 200)
        #expect(try c.call(["PING"]) == .status("PONG"))
        server.pause()
        defer { server.resume() }
        let start = Date()
        do {
            try c.call(["PING"])
            Issue.record("a stopped server answered")
        } catch {
            guard case .unreachable(_, let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason == "timed out")
        }
        #expect(Date().timeIntervalSince(start) < 1.5)
        #expect(!c.isConnected, "a timed-out connection is dropped (its reply would arrive out of turn)")
        server.resume()
        #expect(try c.call(["PING"]) == .status("PONG"), "the next call connects again")
    }

    @Test func aBlockingReadGetsItsOwnTimeout() throws {
        let server = try RedisTestServer()
        let c = RedisConnection(server.configuration(), connectTimeoutMilliseconds: 100, commandTimeoutMilliseconds: 150)
        let start = Date()
        #expect(try c.send(["XREAD", "BLOCK", "400", "STREAMS", "s", "$"], timeoutMilliseconds: 2000) == .null)
        #expect(Date().timeIntervalSince(start) >= 0.35, "the read blocked past the ordinary command timeout")
        #expect(try c.call(["PING"]) == .status("PONG"))
        #expect(throws: RedisError.self, "a read timeout below BLOCK fails") {
            try c.send(["XREAD", "BLOCK", "3000", "STREAMS", "s", "$"], timeoutMilliseconds: 200)
        }
    }

    /// A server killed under an open connection: the next write meets a reset socket. That must be an error,
    /// not a SIGPIPE killing this process; after a restart the same connection works again.
    @Test func aServerRestartIsAnErrorThenReconnects() throws {
        let server = try RedisTestServer()
        let c = RedisConnection(server.configuration())
        try c.call(["SET", "kept", "1"])
        server.kill()
        let big = [UInt8](repeating: 1, count: 8 << 20)
        for _ in 0..<3 {
            #expect(throws: RedisError.self) { try c.call(bytes: [Array("SET".utf8), Array("x".utf8), big]) }
        }
        try server.start()
        #expect(try c.call(["GET", "kept"]) == .bulk(Array("1".utf8)), "AOF with fsync always kept the write")
    }

    @Test func connectRetriesWithBackoffUntilTheServerIsBack() throws {
        let server = try RedisTestServer()
        server.stop()
        let c = RedisConnection(server.configuration(), connectTimeoutMilliseconds: 100, commandTimeoutMilliseconds: 1000)
        #expect(throws: RedisError.self) { try c.connect(retryingUntil: RedisClock.now() + 100_000_000) }
        let restarted = DispatchSemaphore(value: 0)
        let restarter = Thread { usleep(300_000); try? server.start(); restarted.signal() }
        restarter.start()
        defer { restarted.wait() }
        let start = Date()
        #expect(try c.callRetrying(bytes: [Array("PING".utf8)], until: RedisClock.now() + 10_000_000_000) == .status("PONG"))
        #expect(Date().timeIntervalSince(start) >= 0.25)
    }
}
