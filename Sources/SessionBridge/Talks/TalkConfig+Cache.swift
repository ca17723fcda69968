/// The cache of a parsed config.yaml in `registry/config.cache`: one `key=value` line per setting, strings in hex.
/// Every talk command reads it, so it avoids both YAML and a JSON decoder (whose first use costs ~0.5 ms of
/// generic-metadata lookups in a short process).
extension TalkConfig {
    static let cacheVersion = "session-bridge talk config cache 1"

    /// The cache text for this config, tagged with the SHA-256 of the YAML it came from.
    func cacheText(source: String) -> String {
        var lines = [Self.cacheVersion, "source=\(source)", "schemaVersion=\(schemaVersion)", "lockStrategy=\(lockStrategy.rawValue)",
                     "staleLockSeconds=\(staleLockSeconds)", "maxTurns=\(maxTurns)", "watcherDebounceMs=\(watcherDebounceMs)",
                     "watcherPollingFallback=\(watcherPollingFallback)", "watcherInjectMethod=\(Self.hex(watcherInjectMethod))",
                     "blockDirectEdits=\(blockDirectEdits)", "requireNonceVerification=\(requireNonceVerification)", "auditLog=\(auditLog)"]
        if let d = conversationDir { lines.append("conversationDir=\(Self.hex(d))") }
        if let p = watcherPrompt { lines.append("watcherPrompt=\(Self.hex(p))") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The cached config when `text` is a cache of the YAML whose SHA-256 is `source`; nil otherwise.
    init?(cacheText text: String, source: String) {
        let lines = text.split(separator: "\n")
        guard lines.first.map(String.init) == Self.cacheVersion else { return nil }
        var values: [Substring: Substring] = [:]
        for line in lines.dropFirst() {
            guard let eq = line.firstIndex(of: "=") else { return nil }
            values[line[..<eq]] = line[line.index(after: eq)...]
        }
        guard values["source"].map(String.init) == source,
              let schema = values["schemaVersion"].flatMap({ Int($0) }),
              let lock = values["lockStrategy"].flatMap({ LockStrategy(rawValue: String($0)) }),
              let stale = values["staleLockSeconds"].flatMap({ Int($0) }),
              let maxTurns = values["maxTurns"].flatMap({ Int($0) }),
              let debounce = values["watcherDebounceMs"].flatMap({ Int($0) }),
              let polling = values["watcherPollingFallback"].flatMap({ Bool(String($0)) }),
              let inject = values["watcherInjectMethod"].flatMap({ Self.unhex($0) }),
              let block = values["blockDirectEdits"].flatMap({ Bool(String($0)) }),
              let nonce = values["requireNonceVerification"].flatMap({ Bool(String($0)) }),
              let audit = values["auditLog"].flatMap({ Bool(String($0)) }) else { return nil }
        self.init()
        schemaVersion = schema
        lockStrategy = lock
        staleLockSeconds = stale
        self.maxTurns = maxTurns
        watcherDebounceMs = debounce
        watcherPollingFallback = polling
        watcherInjectMethod = inject
        blockDirectEdits = block
        requireNonceVerification = nonce
        auditLog = audit
        if let d = values["conversationDir"] { guard let s = Self.unhex(d) else { return nil }; conversationDir = s }
        if let p = values["watcherPrompt"] { guard let s = Self.unhex(p) else { return nil }; watcherPrompt = s }
    }

    static func hex(_ s: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count * 2)
        for b in s.utf8 { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func unhex(_ s: Substring) -> String? {
        let chars = Array(s.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = value(chars[i]), let lo = value(chars[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
            i += 2
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
