import Foundation
import Testing
@testable import SessionBridge

/// The hot-path JSON reader against Foundation: the same documents accepted and refused as JSONSerialization
/// (apart from the documented string leniency), the same values, and the typed reads equal to what the Codable
/// path decoded.
@Suite struct JSONReaderTests {
    static let handCases: [String] = [
        "{}", "[]", "1", "-0", "0.5", "-12.5e-3", "1E+5", "1e999", "-1e999", "1e-999", "01", "-", "-01", "1.", "1e", "1e+", ".5",
        "+1", "0x10", "Infinity", "NaN", "1 2", "true", "false", "null", "tru", "nul", "True", " {} ", "\u{FEFF}{}", "\u{FEFF}\u{FEFF}{}",
        "\u{A0}{}", "{}\u{0C}", "{} x", "{}\u{0}", "{\"a\":1,}", "[1,]", "[1,,]", "[,]", "{,}", "{\"a\" 1}", "{\"a\":}", "{1:2}",
        "{\"a\":1 \"b\":2}", "[1 2]", "\"\\u0000\"", "\"\\u00zz\"", "\"\\x\"", "\"\\U0041\"", "\"\\/\"", "\"a\u{1}b\"", "\"a\u{7F}b\"",
        "\"a\tb\"", "\"\\ud83d\\ude00\"", "\"\\uD83D\\uDE00\"", "\"é\"", "\"\u{301}e\"", "\"abc", "[", "{", "", " ", "\"\\", "\"\\u12\"",
        "{\"a\":{\"b\":[1,{\"c\":null}]}}", "{\"a\":1,\"a\":2}", "[1e5, -0.0, 123456789012345678901234567890]",
        String(repeating: "[", count: 512) + String(repeating: "]", count: 512),
        String(repeating: "[", count: 513) + String(repeating: "]", count: 513),
        "{\"x\":" + String(repeating: "[", count: 511) + String(repeating: "]", count: 511) + "}",
        "{\"x\":" + String(repeating: "[", count: 512) + String(repeating: "]", count: 512) + "}",
        "1" + String(repeating: "0", count: 308), "1" + String(repeating: "0", count: 309), "1" + String(repeating: "0", count: 400),
        "0." + String(repeating: "0", count: 400) + "1",
    ]

    @Test func handCasesAgreeWithFoundation() {
        for c in Self.handCases {
            if let problem = JSONFuzz.agree(Array(c.utf8)) { Issue.record("\(problem)") }
        }
        // Invalid UTF-8 outside a string is refused (a byte order mark is only the UTF-8 one, once).
        #expect(JSONReader.node([0xFF, 0x7B, 0x7D]) == nil)
        #expect(JSONReader.node([0xFE, 0xFF, 0x7B, 0x7D]) == nil)
    }

    /// A generated document: objects, arrays, strings with escapes, numbers, literals, random whitespace.
    static func document(_ r: inout Lcg, depth: Int = 0) -> String {
        func ws(_ r: inout Lcg) -> String { ["", "", " ", "\n", "\t", "\r\n  "][r.next(6)] }
        switch depth > 4 ? r.next(5) : r.next(7) {
        case 0: return ["0", "-0", "12", "-3.25", "1e10", "2E-3", "0.000001", "9007199254740993", "-17"][r.next(9)]
        case 1: return ["true", "false", "null"][r.next(3)]
        case 2, 3, 4:
            var s = "\""
            for _ in 0..<r.next(8) {
                s += ["a", "Z", " ", "\\n", "\\\"", "\\\\", "\\/", "\\u0041", "\\u00e9", "\\ud83d\\ude00", "é", "日", "$", "\\t", "\\u0000", "\\b", "\\f"][r.next(17)]
            }
            return s + "\""
        case 5:
            let items = (0..<r.next(4)).map { _ in ws(&r) + document(&r, depth: depth + 1) + ws(&r) }
            return "[" + items.joined(separator: ",") + "]"
        default:
            let keys = ["a", "tool_name", "tool_input", "cwd", "command", "é", "", "x y"]
            let members = (0..<r.next(4)).map { _ in ws(&r) + "\"" + keys[r.next(keys.count)] + "\"" + ws(&r) + ":" + ws(&r) + document(&r, depth: depth + 1) + ws(&r) }
            return "{" + members.joined(separator: ",") + "}"
        }
    }

    /// A document changed by a few byte edits drawn from JSON's own alphabet and some hostile bytes.
    static func mutate(_ bytes: [UInt8], _ r: inout Lcg) -> [UInt8] {
        var b = bytes
        let alphabet = Array("{}[],:\"\\u0123456789.eE+-aftnrulsd \t\n\r\u{0C}".utf8) + [0x00, 0x01, 0x1F, 0x7F, 0xC3, 0xA9, 0xFF, 0xED, 0xA0, 0x80, 0xEF, 0xBB, 0xBF]
        for _ in 0..<(1 + r.next(3)) {
            let at = b.isEmpty ? 0 : r.next(b.count + 1)
            switch r.next(3) {
            case 0: b.insert(alphabet[r.next(alphabet.count)], at: at)
            case 1: if at < b.count { b.remove(at: at) }
            default: if at < b.count { b[at] = alphabet[r.next(alphabet.count)] }
            }
        }
        return b
    }

    @Test func generatedAndMutatedDocumentsAgreeWithFoundation() {
        var r = Lcg(seed: 20261202)
        var problems: [String] = []
        var accepted = 0
        for _ in 0..<3000 {
            let doc = Array(Self.document(&r).utf8)
            if let p = JSONFuzz.agree(doc) { problems.append(p) }
            for _ in 0..<4 {
                let m = Self.mutate(doc, &r)
                if JSONReader.node(m) != nil { accepted += 1 }
                if let p = JSONFuzz.agree(m) { problems.append(p) }
            }
        }
        #expect(problems.isEmpty, "\(problems.prefix(10).joined(separator: "\n"))")
        // The mutations reach both sides of the grammar.
        #expect(accepted > 500 && accepted < 11_000)
    }

    // MARK: Lenient strings

    @Test func loneSurrogatesAndInvalidUTF8ReadAsReplacementCharacters() throws {
        func string(_ json: [UInt8]) -> [UInt32]? {
            guard case .string(let s)? = JSONReader.node(json) else { return nil }
            return s.unicodeScalars.map(\.value)
        }
        #expect(string(Array(#""\ud800""#.utf8)) == [0xFFFD])
        #expect(string(Array(#""\udc00x""#.utf8)) == [0xFFFD, 0x78])
        #expect(string(Array(#""\ud800\u0041""#.utf8)) == [0xFFFD, 0x41])
        #expect(string(Array(#""\ud800\ud800\udc00""#.utf8)) == [0xFFFD, 0x10000])
        #expect(string(Array(#""\udbff\udfff""#.utf8)) == [0x10FFFF])
        #expect(string([0x22, 0x61, 0xFF, 0x62, 0x22]) == [0x61, 0xFFFD, 0x62])
        #expect(string([0x22, 0xED, 0xA0, 0x80, 0x22]) == [0xFFFD, 0xFFFD, 0xFFFD])
        // Still strict about the escape itself.
        #expect(string(Array(#""\ud800\u00""#.utf8)) == nil)
        #expect(string(Array(#""\ud80""#.utf8)) == nil)
    }

    // MARK: Typed reads against the Codable path

    static func fixtureInputs() throws -> [[UInt8]] {
        let world = try GuardWorld()
        var out: [[UInt8]] = []
        for name in ["guard-corpus.json", "guard-corpus-adversarial.json", "guard-corpus-holdout.json"] {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/" + name)
            guard let array = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [[String: Any]] else { continue }
            for e in array {
                out.append(try world.hookInput(host: e["host"] as? String ?? "claude", tool: e["tool"] as? String ?? "", input: e["input"] ?? [:],
                                               cwd: e["cwd"] as? String))
            }
        }
        return out
    }

    @Test func hookInputsOfTheCorporaDecodeAsWithCodable() throws {
        var r = Lcg(seed: 7)
        var problems: [String] = []
        let inputs = try Self.fixtureInputs()
        #expect(inputs.count > 600)
        for input in inputs {
            #expect(JSONFuzz.oldPreToolUse(input) != nil)
            for b in [input, Self.mutate(input, &r), Self.mutate(input, &r)] {
                if let p = JSONFuzz.checkPreToolUse(b) { problems.append(p) }
                if let p = JSONFuzz.checkHookInput(b) { problems.append(p) }
            }
        }
        #expect(problems.isEmpty, "\(problems.prefix(10).joined(separator: "\n"))")
    }

    @Test func generatedHookInputsDecodeAsWithCodable() {
        var r = Lcg(seed: 99)
        var problems: [String] = []
        let values = ["null", "true", "false", "1", "-2.5", "\"x\"", "\"\\ud800 rm -rf ~/.claude\"", "[]", "[\"a\",\"b\"]", "[\"a\",1]", "[\"a\",null]",
                      "{}", "{\"command\":\"ls\"}", "{\"command\":[\"bash\",\"-lc\",\"x\"],\"n\":3,\"o\":{\"p\":[]}}", "\"\\u00e9\\n\""]
        let keys = ["session_id", "cwd", "hook_event_name", "transcript_path", "turn_id", "tool_name", "stop_hook_active", "source", "reason",
                    "tool_input", "other"]
        for _ in 0..<4000 {
            let members = (0..<r.next(7)).map { _ in "\"" + keys[r.next(keys.count)] + "\":" + values[r.next(values.count)] }
            var doc = Array(("{" + members.joined(separator: ",") + "}").utf8)
            if r.next(3) == 0 { doc = Self.mutate(doc, &r) }
            if let p = JSONFuzz.checkPreToolUse(doc) { problems.append(p) }
            if let p = JSONFuzz.checkHookInput(doc) { problems.append(p) }
        }
        #expect(problems.isEmpty, "\(problems.prefix(10).joined(separator: "\n"))")
    }

    @Test func manifestsDecodeAsWithCodable() {
        var r = Lcg(seed: 3)
        var problems: [String] = []
        let names = ["me", "a-b.c_d", "é", "x\\y\"z", "\u{301}e"]
        for i in 0..<1500 {
            var m = SessionManifest(id: "abcd\(i)", name: names[r.next(names.count)], projectPath: "/work/p \(i)", host: "h\(r.next(3))",
                                    pid: Int32(r.next(70000)) - 100, pidStartTime: r.next(2) == 0 ? nil : UInt64(r.next(1 << 30)) * 1000,
                                    agent: ["claude-code", "codex", "terminal", "cli"][r.next(4)], claudeSessionId: r.next(2) == 0 ? nil : "c\(i)",
                                    codexThreadId: r.next(3) == 0 ? "t\(i)" : nil, startedAt: "2026-12-02T10:00:00.000Z", lastSeen: "2026-12-02T10:00:01.000Z",
                                    state: r.next(4) == 0 ? "ended" : "live", endedAt: nil, helpers: r.next(2) == 0 ? nil : ["/opt/a/session-bridge"])
            if r.next(5) == 0 { m.schema = 2 }
            let bytes = JSONCoding.encode(m, pretty: r.next(2) == 0)
            if !JSONFuzz.same(SessionManifest.decode(bytes), m) { problems.append("round trip: \(String(decoding: bytes, as: UTF8.self))") }
            for _ in 0..<3 {
                let b = Self.mutate(bytes, &r)
                if let p = JSONFuzz.checkManifest(b) { problems.append(p) }
            }
        }
        // Field types at the edges of their ranges, and wrong types.
        let base = #"{"schema":1,"id":"a","name":"n","projectPath":"/p","host":"h","agent":"cli","startedAt":"s","lastSeen":"l","state":"live","#
        for tail in [#""pid":2147483647}"#, #""pid":2147483648}"#, #""pid":-2147483648}"#, #""pid":-2147483649}"#, #""pid":1.0}"#, #""pid":1e2}"#,
                     #""pid":"1"}"#, #""pid":null}"#, #""pid":-0}"#, #""pid":1,"pidStartTime":18446744073709551615}"#,
                     #""pid":1,"pidStartTime":18446744073709551616}"#, #""pid":1,"pidStartTime":-1}"#, #""pid":1,"pidStartTime":null}"#,
                     #""pid":1,"helpers":[]}"#, #""pid":1,"helpers":["a",2]}"#, #""pid":1,"helpers":null}"#, #""pid":1,"endedAt":3}"#, #"}"#] {
            if let p = JSONFuzz.checkManifest(Array((base + tail).utf8)) { problems.append(p) }
        }
        #expect(problems.isEmpty, "\(problems.prefix(10).joined(separator: "\n"))")
    }
}

/// A small deterministic generator, so a failure is reproducible.
struct Lcg {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }
    mutating func next(_ bound: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int((state >> 33) % UInt64(max(bound, 1)))
    }
}
