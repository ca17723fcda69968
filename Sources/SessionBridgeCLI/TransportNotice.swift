import SessionBridge

/// The one warning a command prints on stderr when `SESSION_BRIDGE_STORE` names a Redis server on a non-loopback
/// host: this build's client has no TLS, so the link (password included) is clear text. Hooks never print it (their
/// output goes to the model, and they run on every tool call); `plaintext=ok` in the URL silences it.
enum TransportNotice {
    /// The line to print for this command line and environment, or nil.
    static func line(arguments: [String], environment: Environment) -> String? {
        guard arguments.count >= 2, arguments[1] != "hook" else { return nil }
        guard let url = environment["SESSION_BRIDGE_STORE"], url.hasPrefix("redis://") else { return nil }
        // A URL that does not parse is the command's own error, reported when it opens the store.
        guard let configuration = try? RedisConfiguration.parse(url, environment: environment) else { return nil }
        return configuration.transportWarning.map { "session-bridge: " + $0 }
    }

    /// Prints the warning, if any, once: the process runs one command.
    static func printIfNeeded(_ arguments: [String]) {
        if let line = line(arguments: arguments, environment: .current()) { Output.write(2, line + "\n") }
    }
}
