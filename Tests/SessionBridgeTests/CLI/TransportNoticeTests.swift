import Foundation
import Testing
@testable import SessionBridge
@testable import SessionBridgeCLI

/// The clear-text warning for a Redis URL naming a non-loopback host: one line on stderr per command, none from
/// hooks (their output goes to the model), none for loopback hosts or with `plaintext=ok`.
struct TransportNoticeTests {
    static let remote = ["10.0.0.5", "192.168.1.20", "redis.example.com", "0.0.0.0", "[fd00::1]", "128.0.0.1"]
    static let local = ["127.0.0.1", "127.9.8.7", "localhost", "[::1]", "a.localhost"]
    static let commands = [["peers"], ["ask", "bob", "hi"], ["listen"], ["status"], ["doctor"], ["talk", "new", "t"], ["start"]]

    func line(_ url: String?, _ args: [String]) -> String? {
        TransportNotice.line(arguments: ["session-bridge"] + args, environment: Environment(url.map { ["SESSION_BRIDGE_STORE": $0] } ?? [:]))
    }

    @Test(arguments: remote)
    func aRemoteHostWarnsOnEveryCommandButHooks(_ host: String) throws {
        for args in Self.commands {
            let text = try #require(line("redis://\(host):6379/0?prefix=p", args), "\(host) \(args)")
            #expect(text.hasPrefix("session-bridge: warning:"))
            #expect(text.contains("not encrypted") && text.contains("tunnel") && text.contains("plaintext=ok"))
            #expect(!text.contains("\n"))
        }
        for event in ["post-tool-use", "pre-tool-use", "stop", "user-prompt-submit", "session-start", "session-end"] {
            #expect(line("redis://\(host):6379", ["hook", event]) == nil, "\(event)")
        }
        #expect(line("redis://\(host):6379?plaintext=ok", ["peers"]) == nil)
        #expect(line("redis://\(host):6379?prefix=p&plaintext=ok", ["ask", "bob", "hi"]) == nil)
    }

    @Test(arguments: local)
    func loopbackOtherEnginesAndBadURLsAreSilent(_ host: String) {
        for args in Self.commands { #expect(line("redis://\(host):6379", args) == nil, "\(host) \(args)") }
        for other in [nil, "/tmp/store", "file:///tmp/store", "memory:x", "redis://", "redis://h?bogus=1"] {
            #expect(line(other, ["peers"]) == nil, "\(other ?? "unset")")
        }
        #expect(line("redis://10.0.0.1", []) == nil)
    }

    /// The real binary on a real server reached through 0.0.0.0 (a non-loopback name for this machine): the line once
    /// on stderr of each command, never in a hook's stdout or stderr.
    @Test(.enabled(if: RedisTestServer.enabled, RedisTestServer.skipReason))
    func theBinaryPrintsItOncePerCommandAndNeverFromAHook() throws {
        let server = try RedisTestServer()
        let root = makeTempDir("sb-notice"), rootB = makeTempDir("sb-notice-b")
        let url = ["SESSION_BRIDGE_STORE": "redis://0.0.0.0:\(server.port)?prefix=notice"]
        for (name, key, home) in [("alice", "ka", root), ("bob", "kb", rootB)] {
            let start = try CLI.run(["start", "--name", name], root: home, key: key, extra: url)
            #expect(start.status == 0, "\(start.stderr)")
            #expect(start.stderr.components(separatedBy: "not encrypted").count - 1 == 1, "\(start.stderr)")
        }
        for (args, key, home) in [(["peers"], "ka", root), (["ask", "bob", "hello"], "ka", root),
                                  (["listen", "--timeout", "2"], "kb", rootB), (["status"], "ka", root)] {
            let r = try CLI.run(args, root: home, key: key, extra: url)
            #expect(r.status == 0, "\(args) \(r.stderr)")
            #expect(r.stderr.components(separatedBy: "not encrypted").count - 1 == 1, "\(args): \(r.stderr)")
            #expect(!r.stdout.contains("not encrypted"))
        }
        let hook = try CLI.run(["hook", "post-tool-use"], root: root, key: "ka", stdin: Data("{}".utf8), extra: url)
        #expect(hook.status == 0)
        #expect(!hook.stdout.contains("not encrypted") && !hook.stderr.contains("not encrypted"), "\(hook.stdout) \(hook.stderr)")
        let quiet = try CLI.run(["peers"], root: root, key: "ka",
                                extra: ["SESSION_BRIDGE_STORE": "redis://0.0.0.0:\(server.port)?prefix=notice&plaintext=ok"])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
    }
}
