/// Why a Redis call failed, in codes a caller can act on; the prose is made where it is shown.
package enum RedisError: Error, Equatable, Sendable {
    /// No connection: refused, timed out, reset, closed by the server, name not resolved.
    case unreachable(endpoint: String, reason: String)
    /// AUTH was refused (wrong password, unknown or disabled user), or the server wants a password none was given.
    case authRefused(user: String)
    /// The ACL user may not run this command or touch these keys.
    case noPermission(user: String, detail: String)
    /// Any other error reply (the server's text, its first word the code).
    case server(String)
    /// A reply whose shape is not what the command returns: a proxy or a different server on the port.
    case unexpectedReply(String)
    /// The store URL or its settings are wrong.
    case badConfiguration(String)
    /// The password file may be read by others, or belongs to someone else.
    case insecurePasswordFile(path: String, why: String)

    /// One line for a person.
    package var message: String {
        switch self {
        case .unreachable(let endpoint, let reason):
            return "store unreachable: " + Self.unreachableDetail(endpoint: endpoint, reason: reason)
        case .authRefused(let user):
            return "Redis refused the credentials of user '\(user)' (check the password and that the ACL user exists and is on)"
        case .noPermission(let user, let detail):
            return "Redis user '\(user)' lacks a permission: \(detail)"
        case .server(let text):
            return "Redis error: \(text)"
        case .unexpectedReply(let what):
            return "unexpected Redis reply: \(what)"
        case .badConfiguration(let what):
            return "bad Redis store setting: \(what)"
        case .insecurePasswordFile(let path, let why):
            return "Redis password file \(path) \(why): it must be yours with mode 0600 (`chmod 600 \(path)`)"
        }
    }
}

extension RedisError {
    /// Which server could not be reached and why, without the "store unreachable" prefix.
    static func unreachableDetail(endpoint: String, reason: String) -> String { "Redis at \(endpoint): \(reason)" }
}

extension RedisError: CustomStringConvertible {
    package var description: String { message }
}
