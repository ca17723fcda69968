#if canImport(Glibc)
import Glibc
#endif

/// Where a Redis store is and how to reach it, parsed from the store URL
/// `redis://[user[:password]@]host[:port][/db][?name=value&...]`.
///
/// Query settings: `prefix` (key prefix, default `sb:`; a `:` is added when missing, so `prefix=alice` gives keys
/// `alice:...`, the pattern an ACL user `~alice:*` allows), `password_file` (a file readable only by its owner, the
/// current user, holding the password; also `SESSION_BRIDGE_REDIS_PASSWORD_FILE`), `connect_timeout_ms` and
/// `timeout_ms` (connect and per-command bounds of ordinary commands), `plaintext=ok` (silences the warning for a
/// non-loopback host). Unknown settings are refused, so a typo cannot silently fall back to a default.
/// Hooks connect within `hookConnectTimeoutMilliseconds` unless the URL sets `connect_timeout_ms`: they must stay fast
/// when Redis is down or unreachable.
package struct RedisConfiguration: Sendable, Equatable {
    package var host: String
    package var port: Int32
    /// The ACL user; nil authenticates as `default` with the password alone (or not at all without one).
    package var user: String?
    package var password: String?
    package var database: Int
    package var prefix: String
    package var connectTimeoutMilliseconds: Int
    package var commandTimeoutMilliseconds: Int
    package var hookConnectTimeoutMilliseconds: Int
    package var hookCommandTimeoutMilliseconds: Int
    /// The user accepted an unencrypted link to a non-loopback host (`plaintext=ok`).
    package var plaintextAccepted: Bool
    /// The URL set `connect_timeout_ms`.
    package var connectTimeoutExplicit = false
    /// Opened by a hook (`StoreFactory.Setting.forHook`): connects within the hook bound unless the URL sets one.
    package var forHook = false

    package static let defaultPort: Int32 = 6379
    package static let defaultPrefix = "sb:"

    package init(host: String, port: Int32 = RedisConfiguration.defaultPort, user: String? = nil, password: String? = nil,
                database: Int = 0, prefix: String = RedisConfiguration.defaultPrefix) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.prefix = prefix
        connectTimeoutMilliseconds = 2000
        commandTimeoutMilliseconds = 5000
        hookConnectTimeoutMilliseconds = 50
        hookCommandTimeoutMilliseconds = 250
        plaintextAccepted = false
    }

    /// The user as the server knows it.
    package var userName: String { user ?? "default" }

    /// `host:port` for messages (never the password).
    package var endpoint: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The URL without its password, safe to show.
    package var redacted: String {
        var s = "redis://"
        if let user { s += percentEncode(user) + (password == nil ? "" : ":***") + "@" }
        else if password != nil { s += ":***@" }
        s += endpoint
        if database != 0 { s += "/\(database)" }
        if prefix != Self.defaultPrefix { s += "?prefix=\(percentEncode(prefix))" }
        return s
    }

    /// True for 127.0.0.0/8, ::1 and localhost: traffic that never leaves the machine.
    package var isLoopback: Bool {
        let h = host.lowercased()
        if h == "localhost" || h == "::1" || h.hasSuffix(".localhost") { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// What to tell the user about the link, or nil: hiredis 0.14 has no TLS, so a remote host should be reached
    /// through a tunnel (ssh -L, stunnel, WireGuard) and named by its loopback end.
    package var transportWarning: String? {
        if isLoopback || plaintextAccepted { return nil }
        return "warning: the Redis link to \(endpoint) is not encrypted (no TLS in this build): reach it through a " +
            "tunnel (e.g. `ssh -N -L 6379:localhost:6379 HOST`, then redis://127.0.0.1:6379), or add plaintext=ok " +
            "to the URL on a trusted network"
    }

    /// Parses a store URL. `environment` supplies `SESSION_BRIDGE_REDIS_PASSWORD_FILE`; a password file is read here.
    package static func parse(_ url: String, environment: Environment) throws(RedisError) -> RedisConfiguration {
        guard url.hasPrefix("redis://") else { throw .badConfiguration("the URL must start with redis://") }
        var rest = Substring(url.dropFirst("redis://".count))
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        if rest.contains("#") { throw .badConfiguration("the URL has a fragment ('#'); percent-encode it as %23") }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let info = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = info.firstIndex(of: ":") {
                let u = try percentDecode(info[..<colon], what: "user")
                user = u.isEmpty ? nil : u
                password = try percentDecode(info[info.index(after: colon)...], what: "password")
            } else {
                let u = try percentDecode(info, what: "user")
                user = u.isEmpty ? nil : u
            }
        }
        let (host, port) = try parseHostPort(rest)
        var config = RedisConfiguration(host: host, port: port, user: user, password: password)
        if !path.isEmpty {
            guard let db = Int(path), db >= 0, db < 1 << 20, path.allSatisfy(\.isASCII) else {
                throw .badConfiguration("the database '\(path)' is not a number (use /0, /1, ...)")
            }
            config.database = db
        }
        var passwordFile: String?
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let eq = pair.firstIndex(of: "=")
            let key = String(eq.map { pair[..<$0] } ?? pair)
            let value = try percentDecode(eq.map { pair[pair.index(after: $0)...] } ?? "", what: key)
            switch key {
            case "prefix":
                config.prefix = try validPrefix(value)
            case "password_file":
                passwordFile = value
            case "connect_timeout_ms":
                config.connectTimeoutMilliseconds = try milliseconds(value, key)
                config.connectTimeoutExplicit = true
            case "timeout_ms":
                config.commandTimeoutMilliseconds = try milliseconds(value, key)
            case "plaintext":
                guard value == "ok" else { throw .badConfiguration("plaintext takes the value ok") }
                config.plaintextAccepted = true
            default:
                throw .badConfiguration("unknown setting '\(key)' (known: prefix, password_file, connect_timeout_ms, timeout_ms, plaintext)")
            }
        }
        if passwordFile == nil, let fromEnvironment = environment["SESSION_BRIDGE_REDIS_PASSWORD_FILE"] {
            passwordFile = fromEnvironment
        }
        if let passwordFile {
            if config.password != nil {
                throw .badConfiguration("a password is in the URL and a password file is given: keep one")
            }
            config.password = try readPasswordFile(passwordFile)
        }
        if let user = config.user, config.password == nil {
            throw .badConfiguration("user '\(user)' has no password: add it to the URL or give a password file")
        }
        return config
    }

    static func parseHostPort(_ s: Substring) throws(RedisError) -> (String, Int32) {
        var host: Substring
        var portText: Substring?
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { throw .badConfiguration("unclosed '[' in the host") }
            host = s[s.index(after: s.startIndex)..<close]
            let after = s[s.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .badConfiguration("unexpected text after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = s.firstIndex(of: ":") {
            host = s[..<colon]
            portText = s[s.index(after: colon)...]
        } else {
            host = s
        }
        guard !host.isEmpty else { throw .badConfiguration("the URL names no host") }
        guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" || $0 == "_") }) else {
            throw .badConfiguration("the host '\(host)' has characters a host name cannot have")
        }
        var port = defaultPort
        if let portText {
            guard let p = Int32(portText), p > 0, p < 65536, portText.allSatisfy(\.isASCII) else {
                throw .badConfiguration("the port '\(portText)' is not a number from 1 to 65535")
            }
            port = p
        }
        return (String(host), port)
    }

    /// 1-64 characters of letters, digits and `._:-{}`, ending in ':' (added when missing).
    static func validPrefix(_ value: String) throws(RedisError) -> String {
        let allowed = value.unicodeScalars.allSatisfy {
            $0.isASCII && (($0.properties.isAlphabetic) || ("0"..."9").contains($0) || "._:-{}".unicodeScalars.contains($0))
        }
        guard !value.isEmpty, value.utf8.count <= 64, allowed else {
            throw .badConfiguration("the prefix '\(value)' must be 1-64 letters, digits or . _ : - { }")
        }
        return value.hasSuffix(":") ? value : value + ":"
    }

    static func milliseconds(_ value: String, _ key: String) throws(RedisError) -> Int {
        guard let n = Int(value), n > 0, n <= 600_000, value.allSatisfy(\.isASCII) else {
            throw .badConfiguration("\(key) must be a number of milliseconds from 1 to 600000")
        }
        return n
    }

    /// Reads a password from a regular file that only its owner, the current user, may read or write. One trailing
    /// newline is dropped.
    static func readPasswordFile(_ path: String) throws(RedisError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            throw .badConfiguration("cannot open the password file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw .badConfiguration("cannot inspect the password file \(path): \(String(cString: strerror(errno)))")
        }
        guard st.st_mode & S_IFMT == S_IFREG else { throw .badConfiguration("the password file \(path) is not a regular file") }
        if st.st_uid != geteuid() {
            throw .insecurePasswordFile(path: path, why: "is owned by uid \(st.st_uid), not by you (uid \(geteuid()))")
        }
        if st.st_mode & 0o077 != 0 {
            throw .insecurePasswordFile(path: path, why: "may be read by group or others (mode \(String(st.st_mode & 0o777, radix: 8)))")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= 64 << 10 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                throw .badConfiguration("cannot read the password file \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        guard bytes.count <= 64 << 10 else { throw .badConfiguration("the password file \(path) is over 64 KiB") }
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else { throw .badConfiguration("the password file \(path) is empty") }
        guard let text = String(validating: bytes, as: UTF8.self), !text.contains("\n") else {
            throw .badConfiguration("the password file \(path) must hold one line of UTF-8 text")
        }
        return text
    }

    static func percentDecode(_ s: Substring, what: String) throws(RedisError) -> String {
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard it.count >= 2, let hi = hexValue(it[it.startIndex]), let lo = hexValue(it[it.startIndex + 1]) else {
                    throw .badConfiguration("bad percent-escape in the \(what)")
                }
                out.append(hi << 4 | lo)
                it = it.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw .badConfiguration("the \(what) is not UTF-8 once decoded")
        }
        if text.utf8.contains(0) { throw .badConfiguration("the \(what) contains a NUL byte") }
        return text
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Character(Unicode.Scalar(b))
            if b < 0x80 && (c.isLetter || c.isNumber || "-._~".contains(c)) { out.append(c) }
            else { out += "%" + String(b, radix: 16, uppercase: true).leftPadded(2) }
        }
        return out
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
