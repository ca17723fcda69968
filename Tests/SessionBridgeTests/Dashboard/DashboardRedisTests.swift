#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import Dashboard
@testable import SessionBridge

/// The dashboard on the Redis engine, against a private server: the change feed in process, and the real
/// `session-bridge-ui` pushing changes to an event-stream client while sessions ask, claim and answer.
@Suite(.enabled(if: RedisTestServer.enabled, RedisTestServer.skipReason), .serialized)
struct DashboardRedisTests {
    @Test func theFeedWakesForEveryChangeThePagesShowOnRedis() throws {
        let server = try RedisTestServer()
        try FeedScenario.run(root: makeTempDir("dash-feed-redis"), extra: ["SESSION_BRIDGE_STORE": server.url + "?prefix=feed"],
                             expectedMode: "redis")
    }

    /// A question, its receipt and its answer each reach an open event stream within a second, and the page fetched
    /// then shows them; without the token, the stream and the pages answer 401.
    @Test func theEventStreamShowsAQuestionItsReceiptAndItsAnswerLive() throws {
        let server = try RedisTestServer()
        let root = makeTempDir("dash-sse-redis")
        let extra = ["SESSION_BRIDGE_STORE": server.url + "?prefix=sse"]
        let lib = try makeBridge(root: root, key: "lib-key", extra: extra)
        let app = try makeBridge(root: root, key: "app-key", extra: extra)
        _ = try lib.sessions.start(name: "lib")
        _ = try app.sessions.start(name: "app")
        let ui = try DashboardProcess(root: root, extra: extra)
        defer { ui.stop() }
        #expect(try ui.get("/events", token: false).status == 401)
        #expect(try ui.get("/messages", token: false).status == 401)
        let events = try EventStream(port: ui.port, token: ui.token)
        defer { events.close() }
        // Nothing changes: no change event.
        #expect(!events.nextChange(timeoutMilliseconds: 500))

        let q = try app.messages.ask("lib", content: "which port, live?")
        #expect(events.nextChange(timeoutMilliseconds: 1000), "the question")
        var page = try ui.get("/messages?fragment=1").body
        #expect(page.contains("id=\"m-\(q.id)\"") && page.contains("which port, live?") && page.contains("data-state=\"pending\""), "\(page)")

        _ = try lib.messages.listen(timeoutSeconds: 1)
        #expect(events.nextChange(timeoutMilliseconds: 1000), "the claim and its receipt")
        page = try ui.get("/messages?fragment=1").body
        #expect(page.contains("data-state=\"claimed\"") && page.contains("seen by lib via listen"), "\(page)")

        let r = try lib.messages.reply(to: q.id, content: "8080")
        #expect(events.nextChange(timeoutMilliseconds: 1000), "the answer")
        page = try ui.get("/messages?fragment=1").body
        #expect(page.contains("data-state=\"answered\"") && page.contains("href=\"/messages/\(r.id)\""), "\(page)")
    }
}

/// `session-bridge-ui` started on a free port, as `session-bridge ui` starts it, with its address and token.
final class DashboardProcess {
    let process = Process()
    let port: Int
    let token: String

    /// The built dashboard server beside the test bundle (or `$SESSION_BRIDGE_UI`).
    static var binary: String {
        if let explicit = ProcessInfo.processInfo.environment["SESSION_BRIDGE_UI"] { return explicit }
        return URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("session-bridge-ui").path
    }

    init(root: String, extra: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--port", "0"]
        process.environment = CLI.environment(root: root, key: nil, extra: extra)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let address = Self.address(in: text) else {
            process.terminate()
            throw DashboardTestError.noAddress(text)
        }
        port = address.0
        token = address.1
    }

    /// The port and token of the address the server prints: http://127.0.0.1:PORT/?token=HEX.
    static func address(in text: String) -> (Int, String)? {
        guard let start = text.range(of: "http://127.0.0.1:") else { return nil }
        let rest = text[start.upperBound...]
        guard let slash = rest.range(of: "/?token="), let port = Int(rest[..<slash.lowerBound]) else { return nil }
        let token = rest[slash.upperBound...].prefix { $0.isHexDigit }
        return token.isEmpty ? nil : (port, String(token))
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    /// One request with the token's cookie (as the browser sends it after the first redirect), or without it.
    func get(_ path: String, token withToken: Bool = true) throws -> (status: Int, body: String) {
        let socket = try LoopbackSocket(port: port)
        defer { socket.close() }
        let cookie = withToken ? "Cookie: \(AccessToken.cookieName)=\(token)\r\n" : ""
        try socket.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\(cookie)Connection: close\r\n\r\n")
        let text = socket.readAll(timeoutMilliseconds: 5000)
        guard let statusLine = text.split(separator: "\r\n").first, let code = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw DashboardTestError.badResponse(text)
        }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (code, body)
    }
}

enum DashboardTestError: Error {
    case noAddress(String)
    case badResponse(String)
    case socket(Int32)
}

/// An open `/events` stream, read line by line as a browser's EventSource reads it.
final class EventStream {
    let socket: LoopbackSocket
    private var buffer = ""

    init(port: Int, token: String) throws {
        socket = try LoopbackSocket(port: port)
        try socket.send("GET /events HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nCookie: \(AccessToken.cookieName)=\(token)\r\nAccept: text/event-stream\r\n\r\n")
        // The stream is open once the server's first comment arrives.
        guard waitFor(": connected", timeoutMilliseconds: 5000) else { throw DashboardTestError.badResponse(buffer) }
    }

    /// True when a change event arrives within the timeout.
    func nextChange(timeoutMilliseconds: Int) -> Bool { waitFor("event: change", timeoutMilliseconds: timeoutMilliseconds) }

    /// Reads until a line equal to `line` (consuming it and what came before), or the timeout.
    func waitFor(_ line: String, timeoutMilliseconds: Int) -> Bool {
        let deadline = Date().addingTimeInterval(Double(timeoutMilliseconds) / 1000)
        while true {
            if let r = buffer.range(of: "\n" + line + "\n") ?? (buffer.hasPrefix(line + "\n") ? buffer.range(of: line + "\n") : nil) {
                buffer = String(buffer[r.upperBound...])
                return true
            }
            let left = Int(deadline.timeIntervalSinceNow * 1000)
            guard left > 0, let chunk = socket.read(timeoutMilliseconds: left) else { return false }
            buffer += chunk.replacingOccurrences(of: "\r\n", with: "\n")
        }
    }

    func close() { socket.close() }
}

/// A TCP connection to 127.0.0.1.
final class LoopbackSocket {
    let fd: Int32

    init(port: Int) throws {
        fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DashboardTestError.socket(errno) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard r == 0 else {
            let e = errno
            Glibc.close(fd)
            throw DashboardTestError.socket(e)
        }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { raw in Glibc.send(fd, raw.baseAddress! + off, raw.count - off, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw DashboardTestError.socket(errno) }
            off += n
        }
    }

    /// What arrives within the timeout; nil on timeout or when the peer closed.
    func read(timeoutMilliseconds: Int) -> String? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(max(0, timeoutMilliseconds))) == 1 else { return nil }
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &buf, buf.count, 0)
        return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : nil
    }

    /// Everything until the peer closes (or the timeout).
    func readAll(timeoutMilliseconds: Int) -> String {
        let deadline = Date().addingTimeInterval(Double(timeoutMilliseconds) / 1000)
        var out = ""
        while let chunk = read(timeoutMilliseconds: max(1, Int(deadline.timeIntervalSinceNow * 1000))) { out += chunk }
        return out
    }

    func close() { Glibc.close(fd) }
}
