import Foundation
import Testing
@testable import SessionBridge

@Suite struct RedisConfigurationTests {
    let none = Environment([:])

    @Test func defaults() throws {
        let c = try RedisConfiguration.parse("redis://127.0.0.1", environment: none)
        let expected = c.host == "127.0.0.1" && c.port == 6379 && c.database == 0 && c.prefix == "sb:"
        #expect(expected)
        #expect(c.user == nil && c.password == nil && c.userName == "default")
        #expect(c.hookConnectTimeoutMilliseconds <= 100, "hooks must give up on an unreachable Redis in tens of ms")
    }

    /// Every combination of generated parts, percent-encoded, parses back to exactly those parts.
    @Test func generatedURLsParseBackToTheirParts() throws {
        var rng = SystemRandomNumberGenerator()
        let hosts = ["127.0.0.1", "localhost", "::1", "redis.example", "10.1.2.3", "fe80::1", "a-b_c.d"]
        let alphabet = Array(" !\"#$%&'()*+,-./0123456789:;<=>?@[\\]^_`abcXYZ{|}~é€🙂")
        func randomText() -> String { String((0..<Int.random(in: 1...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }) }
        for _ in 0..<500 {
            let host = hosts.randomElement(using: &rng)!
            let port = Int32.random(in: 1...65535, using: &rng)
            let user: String? = Bool.random(using: &rng) ? randomText() : nil
            let password = randomText()
            let db = Int.random(in: 0...15, using: &rng)
            let prefix = String((0..<Int.random(in: 1...10, using: &rng)).map { _ in Array("abcXYZ019._-{}").randomElement(using: &rng)! })
            var url = "redis://" + (user.map(encode) ?? "") + ":" + encode(password) + "@"
            url += host.contains(":") ? "[\(host)]" : host
            url += ":\(port)/\(db)?prefix=\(encode(prefix))&timeout_ms=1234"
            let c = try RedisConfiguration.parse(url, environment: none)
            let same = c.host == host && c.port == port && c.user == user && c.password == password && c.database == db
            #expect(same, "\(url)")
            #expect(c.prefix == prefix + ":" && c.commandTimeoutMilliseconds == 1234)
            #expect(!c.redacted.contains(encode(password)) || password.count < 3, "the redacted URL shows no password")
        }
    }

    @Test func malformedURLsAreRefusedAsConfigurationErrors() {
        let bad = [
            "http://127.0.0.1", "redis:/127.0.0.1", "redis://", "redis://:6379", "redis://h:0", "redis://h:65536",
            "redis://h:12a", "redis://h:-1", "redis://h/x", "redis://h/-1", "redis://h/1/2", "redis://[::1",
            "redis://[::1]x", "redis://h?nope=1", "redis://h?prefix=", "redis://h?prefix=a*", "redis://h?prefix=a%20b",
            "redis://h?prefix=a%0Ab", "redis://h?prefix=" + String(repeating: "a", count: 65), "redis://h?timeout_ms=0",
            "redis://h?connect_timeout_ms=x", "redis://h?plaintext=yes", "redis://u%ZZ:p@h", "redis://u:p%0@h",
            "redis://u:p%00@h", "redis://alice@h", "redis://h#x", "redis://h st", "redis://h\n", "redis://ü",
        ]
        for url in bad {
            #expect(throws: RedisError.self, "\(url.debugDescription)") { try RedisConfiguration.parse(url, environment: none) }
            do { _ = try RedisConfiguration.parse(url, environment: none) } catch {
                if case .badConfiguration = error {} else { Issue.record("\(url): \(error)") }
            }
        }
    }

    /// Random bytes after the scheme never crash the parser; what it accepts satisfies every invariant.
    @Test func fuzzedURLsNeverCrashAndAcceptedOnesAreSound() {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["@", ":", "/", "?", "&", "=", "[", "]", "%", "%4", "%41", "prefix", "password_file", "timeout_ms",
                      "plaintext", "ok", "1", "65535", "99999", "::1", "127.0.0.1", "a", "é", "\u{0}", " ", "#", "\n"]
        for _ in 0..<5000 {
            var s = "redis://"
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                if Int.random(in: 0..<4, using: &rng) == 0 { s.unicodeScalars.append(Unicode.Scalar(UInt8.random(in: 0...127, using: &rng))) }
                else { s += pieces.randomElement(using: &rng)! }
            }
            guard let c = try? RedisConfiguration.parse(s, environment: none) else { continue }
            let sound = !c.host.isEmpty && c.port > 0 && c.port < 65536 && c.database >= 0
            #expect(sound, "\(s.debugDescription)")
            #expect(c.prefix.hasSuffix(":") && !c.prefix.contains("*") && !c.prefix.contains("?"))
            let forbidden: Set<Character> = [" ", "/", "@", "\u{0}"]
            let clean = !c.host.contains(where: { forbidden.contains($0) })
            #expect(clean)
        }
    }

    @Test func passwordFileMustBeTheUsersAndPrivate() throws {
        let dir = makeTempDir("sb-redis-pw")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/pw"
        _ = FileManager.default.createFile(atPath: file, contents: Data("s3 cr:et@\n".utf8), attributes: [.posixPermissions: 0o600])
        let c = try RedisConfiguration.parse("redis://alice@127.0.0.1?password_file=\(file)", environment: none)
        #expect(c.user == "alice" && c.password == "s3 cr:et@", "one trailing newline is dropped, the rest is kept")
        let viaEnvironment = try RedisConfiguration.parse("redis://127.0.0.1", environment: Environment(["SESSION_BRIDGE_REDIS_PASSWORD_FILE": file]))
        #expect(viaEnvironment.password == "s3 cr:et@")

        for mode in [0o640, 0o604, 0o660, 0o644, 0o700 | 0o004] {
            chmod(file, mode_t(mode))
            #expect(throws: RedisError.insecurePasswordFile(path: file, why: "may be read by group or others (mode \(String(mode, radix: 8)))")) {
                try RedisConfiguration.parse("redis://127.0.0.1?password_file=\(file)", environment: none)
            }
        }
        chmod(file, 0o600)
        #expect(throws: RedisError.self) { try RedisConfiguration.parse("redis://:inline@127.0.0.1?password_file=\(file)", environment: none) }
        #expect(throws: RedisError.self) { try RedisConfiguration.parse("redis://127.0.0.1?password_file=\(dir)/missing", environment: none) }
        #expect(throws: RedisError.self) { try RedisConfiguration.parse("redis://127.0.0.1?password_file=\(dir)", environment: none) }
        _ = FileManager.default.createFile(atPath: dir + "/empty", contents: Data("\n".utf8), attributes: [.posixPermissions: 0o600])
        #expect(throws: RedisError.self) { try RedisConfiguration.parse("redis://127.0.0.1?password_file=\(dir)/empty", environment: none) }
        _ = FileManager.default.createFile(atPath: dir + "/two", contents: Data("a\nb\n".utf8), attributes: [.posixPermissions: 0o600])
        #expect(throws: RedisError.self) { try RedisConfiguration.parse("redis://127.0.0.1?password_file=\(dir)/two", environment: none) }
        if getuid() == 0 {
            chown(file, 12345, 12345)
            #expect(throws: RedisError.self) { try RedisConfiguration.parse("redis://127.0.0.1?password_file=\(file)", environment: none) }
        }
    }

    @Test func aNonLoopbackHostIsWarnedAboutUnlessAccepted() throws {
        for host in ["127.0.0.1", "127.3.4.5", "localhost", "[::1]", "db.localhost"] {
            #expect(try RedisConfiguration.parse("redis://\(host):7000", environment: none).transportWarning == nil, "\(host)")
        }
        for host in ["10.0.0.5", "redis.example", "[fe80::1]", "127.0.0.1.example", "128.0.0.1"] {
            let c = try RedisConfiguration.parse("redis://\(host):7000", environment: none)
            #expect(c.transportWarning?.contains("tunnel") == true, "\(host)")
            #expect(try RedisConfiguration.parse("redis://\(host):7000?plaintext=ok", environment: none).transportWarning == nil)
        }
    }

    /// Hooks connect within the short hook bound on every host (a dead remote server must not stall each tool call
    /// for seconds); other commands to a remote host wait the ordinary bound; `connect_timeout_ms` wins for both.
    @Test func hooksConnectWithinTheHookBoundOnEveryHost() throws {
        let root = makeTempDir("sb-hook-bound")
        for host in ["127.0.0.1", "localhost", "10.0.0.5", "redis.example", "[fd00::1]"] {
            let url = "redis://\(host):7000?prefix=p"
            for forHook in [false, true] {
                let env = Environment(["SESSION_BRIDGE_STORE": url, "SESSION_BRIDGE_HOME": root, "HOME": root])
                let store = try #require(try StoreFactory.open(environment: env, forHook: forHook).messages as? RedisStore)
                let c = store.configuration
                let loopback = host == "127.0.0.1" || host == "localhost"
                let expected = forHook || loopback ? c.hookConnectTimeoutMilliseconds : c.connectTimeoutMilliseconds
                #expect(c.effectiveConnectTimeout == expected, "\(host) hook=\(forHook)")
                #expect(c.effectiveConnectTimeout <= 100 || !(forHook || loopback))
                var explicit = try RedisConfiguration.parse(url + "&connect_timeout_ms=700", environment: none)
                explicit.forHook = forHook
                #expect(explicit.effectiveConnectTimeout == 700)
            }
        }
    }

    @Test func messagesNeverShowThePassword() throws {
        let c = try RedisConfiguration.parse("redis://bob:hunter2@127.0.0.1:7000/3?prefix=bob", environment: none)
        #expect(c.redacted == "redis://bob:***@127.0.0.1:7000/3?prefix=bob%3A")
        for e in [RedisError.authRefused(user: c.userName), .unreachable(endpoint: c.endpoint, reason: "x"),
                  .noPermission(user: c.userName, detail: "NOPERM")] {
            #expect(!e.message.contains("hunter2"))
            #expect(e.message.contains("bob") || e.message.contains("127.0.0.1:7000"))
        }
    }

    private func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
    }
}
