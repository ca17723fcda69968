/// The fuzz entry points and what each checks. Every target takes raw bytes, drives one parser (through its
/// adapter file, so a rewritten parser is re-pointed in a line or two) and checks properties beyond "does not
/// crash". A property that fails is returned as a `FuzzFailure`; the fuzzer binary turns it into a crash so
/// libFuzzer saves the input, and the regression test reports it.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// The PreToolUse guard and its shell scanner, on every tool shape both hosts send.
    case `guard`
    /// Guard properties that a guard holding "by construction" must have (wrapping a denied command in a
    /// compound, a subshell or `bash -c` keeps it denied). A probe, not run by CI.
    case guardWrap = "guard-wrap"
    /// The talk parser: round trip, fast and slow header paths agree, the append path agrees with the reader.
    case talk
    /// `talk say` for real on a scratch talk: a turn is stored byte for byte or refused with nothing written.
    case talkSay = "talk-say"
    /// Message JSON: decode/encode round trips, the hand-written JSON quoting.
    case message
    /// Hook input and the whole hook entry point of each event.
    case hook
    /// A talks folder's config.yaml: bounded, and read back from its cache exactly as parsed.
    case config
    /// The hot-path JSON reader: Foundation's grammar, and the Codable path's hook inputs and manifests.
    case json

    /// The targets `scripts/fuzz` runs by default (CI).
    public static let standard: [FuzzTarget] = [.guard, .talk, .talkSay, .message, .hook, .config, .json]

    /// Checks one input. nil: every property held.
    public func run(_ bytes: [UInt8], in world: FuzzWorld) -> FuzzFailure? {
        switch self {
        case .guard: return GuardFuzz.check(bytes, world: world, wrap: false)
        case .guardWrap: return GuardFuzz.check(bytes, world: world, wrap: true)
        case .talk: return TalkFuzz.checkParse(bytes)
        case .talkSay: return TalkFuzz.checkSay(bytes, world: world)
        case .message: return MessageFuzz.check(bytes)
        case .hook: return HookFuzz.check(bytes, world: world)
        case .config: return ConfigFuzz.check(bytes)
        case .json: return JSONFuzz.check(bytes)
        }
    }
}

extension FuzzTarget {
    /// What one input does, for a report: the property that fails (or "ok"), and for the guard targets the
    /// hook input and the verdict with its reason.
    public func explain(_ bytes: [UInt8], in world: FuzzWorld) -> String {
        var lines: [String] = []
        if self == .guard || self == .guardWrap, let first = bytes.first {
            let text = FuzzInput.text(bytes.dropFirst(), world: world)
            let input = GuardFuzz.hookInput(shape: Int(first) % GuardFuzz.shapes, text: text, world: world)
            lines.append("hook input: " + String(decoding: input, as: UTF8.self))
            lines.append("verdict: " + (GuardAdapter.deny(input, environment: world.environment).map { "deny: " + $0 } ?? "allow"))
        }
        lines.append(run(bytes, in: world).map { "property failed: \($0)" } ?? "ok: every property held")
        return lines.joined(separator: "\n")
    }
}

/// A property that did not hold on an input.
public struct FuzzFailure: Error, CustomStringConvertible, Sendable {
    public var target: FuzzTarget
    /// Short stable name of the property (for a known-issue list).
    public var property: String
    public var detail: String

    public init(_ target: FuzzTarget, _ property: String, _ detail: String) {
        self.target = target
        self.property = property
        self.detail = detail
    }

    public var description: String { "\(target.rawValue): \(property): \(detail)" }
}

/// Helpers shared by the targets.
enum FuzzInput {
    /// Text from arbitrary bytes (invalid UTF-8 becomes U+FFFD), with the world's path tokens substituted so the
    /// fuzzer can aim at guarded folders without knowing the scratch paths.
    static func text(_ bytes: ArraySlice<UInt8>, world: FuzzWorld?) -> String {
        let s = String(decoding: bytes, as: UTF8.self)
        guard let world, s.contains("{") else { return s }
        return world.substitute(s)
    }

    /// A string shown in a report: escaped, cut to a readable length.
    static func show(_ s: String, limit: Int = 300) -> String {
        var out = ""
        for u in s.unicodeScalars.prefix(limit) {
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            default:
                if u.value < 0x20 || u.value == 0x7f { out += "\\u{\(String(u.value, radix: 16))}" } else { out.unicodeScalars.append(u) }
            }
        }
        return s.unicodeScalars.count > limit ? out + "…" : out
    }

    /// Byte-exact string equality (Swift's `==` treats canonically equivalent strings as equal).
    static func same(_ a: String, _ b: String) -> Bool { Array(a.utf8) == Array(b.utf8) }

    static func same(_ a: String?, _ b: String?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let x?, let y?): return same(x, y)
        default: return false
        }
    }
}
