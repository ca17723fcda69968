import Foundation
@testable import SessionBridge

/// The JSON target: the hot-path reader (`JSONReader`) against Foundation on any bytes. Properties:
/// - it accepts and refuses the same documents as JSONSerialization and reads the same values, apart from strings
///   that hold invalid UTF-8 or a lone surrogate escape, which it reads (as U+FFFD) where Foundation refuses;
/// - read as a PreToolUse hook input, a hook input and a session manifest, whatever it decodes equals what the
///   Codable path decodes (on the document, or for lenient strings on the reader's own reading written back as
///   valid JSON), and it refuses only what Foundation's parser refuses too.
public enum JSONFuzz {
    static func check(_ bytes: [UInt8]) -> FuzzFailure? {
        if let p = agree(bytes) { return FuzzFailure(.json, "foundation-agrees", p) }
        if let p = checkPreToolUse(bytes) { return FuzzFailure(.json, "pre-tool-use-as-codable", p) }
        if let p = checkHookInput(bytes) { return FuzzFailure(.json, "hook-input-as-codable", p) }
        if let p = checkManifest(bytes) { return FuzzFailure(.json, "manifest-as-codable", p) }
        return nil
    }

    static func checkPreToolUse(_ b: [UInt8]) -> String? { checkTyped(b, new: JSONAdapter.preToolUse, old: oldPreToolUse, same: same) }
    static func checkHookInput(_ b: [UInt8]) -> String? { checkTyped(b, new: JSONAdapter.hookInput, old: oldHook, same: same) }
    static func checkManifest(_ b: [UInt8]) -> String? { checkTyped(b, new: JSONAdapter.manifest, old: oldManifest, same: same) }

    static func foundationAccepts(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil
    }

    /// Whether the document holds what the reader reads leniently: invalid UTF-8 or a `\u` escape of a surrogate.
    static func hasLenientString(_ b: [UInt8]) -> Bool {
        if String(validating: b, as: UTF8.self) == nil { return true }
        var i = 0
        while i + 2 < b.count {
            if b[i] == 0x5C {
                if b[i + 1] == 0x75, (b[i + 2] | 0x20) == 0x64, i + 3 < b.count, "89abcdefABCDEF".utf8.contains(b[i + 3]) { return true }
                i += 2
            } else {
                i += 1
            }
        }
        return false
    }

    /// Whether Foundation would read the bytes as UTF-16 or UTF-32, which it guesses from NUL bytes at the start;
    /// the reader reads UTF-8 only (RFC 8259 8.1), as every host writes hook input.
    static func looksWide(_ b: [UInt8]) -> Bool { b.prefix(4).contains(0) }

    /// Whether the bytes hold U+FEFF: JSONSerialization drops some of them (one that begins a string or a key, or
    /// the text after an escape) where JSONDecoder and the reader keep them, so such documents are left to the typed
    /// checks against the Codable path.
    static func holdsBOM(_ b: [UInt8]) -> Bool {
        var i = 0
        while i + 2 < b.count {
            if b[i] == 0xEF && b[i + 1] == 0xBB && b[i + 2] == 0xBF { return true }
            i += 1
        }
        return false
    }

    /// The reader's value equals Foundation's (of duplicate keys Foundation keeps the last).
    static func same(_ node: JSONNode, _ any: Any) -> Bool {
        switch node {
        case .null: return any is NSNull
        case .bool(let v):
            if let b = any as? Bool { return b == v }
            return (any as? NSNumber).map { $0.boolValue == v } ?? false
        case .number(let text):
            guard let d = Double(text) else { return false }
            // A long number becomes an NSDecimalNumber (38 digits kept) whose conversion to a double is not exact.
            if let n = any as? NSDecimalNumber { return abs(n.doubleValue - d) <= abs(d) * 1e-9 }
            if let n = any as? NSNumber { return n.doubleValue == d || abs(n.doubleValue - d) <= abs(d) * 1e-15 }
            if let n = any as? Int { return Double(n) == d }
            if let n = any as? Double { return n == d }
            return false
        case .string(let s):
            guard let t = any as? String else { return false }
            return Array(s.utf8) == Array(t.utf8)
        case .array(let items):
            guard let a = any as? [Any], a.count == items.count else { return false }
            return zip(items, a).allSatisfy { same($0, $1) }
        case .object(let members):
            guard let o = any as? [String: Any] else { return false }
            // Foundation's dictionary keeps the last of keys that are equal as Swift strings.
            var last: [String: JSONNode] = [:]
            for (k, v) in members { last[k] = v }
            guard last.count == o.count else { return false }
            return last.allSatisfy { k, v in o[k].map { same(v, $0) } ?? false }
        }
    }

    /// The reader and JSONSerialization accept the same documents and read the same values (nil: they agree).
    static func agree(_ bytes: [UInt8]) -> String? {
        let mine = JSONAdapter.node(bytes)
        if hasLenientString(bytes) || looksWide(bytes) || holdsBOM(bytes) { return nil }
        let theirs = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        switch (mine, theirs) {
        case (nil, nil): return nil
        case (let m?, let t?): return same(m, t) ? nil : "values differ: \(FuzzInput.show(String(decoding: bytes, as: UTF8.self)))"
        case (nil, _?): return "refused what Foundation reads: \(FuzzInput.show(String(decoding: bytes, as: UTF8.self)))"
        case (_?, nil): return "read what Foundation refuses: \(FuzzInput.show(String(decoding: bytes, as: UTF8.self)))"
        }
    }

    static func same(_ a: PreToolUseInput?, _ b: PreToolUseInput?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        func s(_ x: String?, _ y: String?) -> Bool { x.map { Array($0.utf8) } == y.map { Array($0.utf8) } }
        guard s(a.toolName, b.toolName), s(a.cwd, b.cwd) else { return false }
        guard let x = a.toolInput, let y = b.toolInput else { return a.toolInput == nil && b.toolInput == nil }
        guard Set(x.keys.map { Array($0.utf8) }) == Set(y.keys.map { Array($0.utf8) }) else { return false }
        for (k, v) in x {
            guard let w = y[k] else { return false }
            switch (v, w) {
            case (.string(let p), .string(let q)): if !s(p, q) { return false }
            case (.strings(let p), .strings(let q)): if p.map({ Array($0.utf8) }) != q.map({ Array($0.utf8) }) { return false }
            case (.other, .other): break
            default: return false
            }
        }
        return true
    }

    /// The typed-read property for one document: what the reader decodes, the Codable path decodes the same (on the
    /// document itself, or with lenient strings on the reader's own reading of it re-written as valid JSON); what
    /// the reader refuses, the Codable path decodes only where Foundation's strict parser refuses it too.
    static func checkTyped<T>(_ bytes: [UInt8], new: ([UInt8]) -> T?, old: ([UInt8]) -> T?, same: (T?, T?) -> Bool) -> String? {
        let mine = new(bytes)
        let show = FuzzInput.show(String(decoding: bytes, as: UTF8.self))
        if let mine {
            // With lenient strings the reference is the reader's own reading written back as valid JSON: Foundation
            // refuses a lone surrogate, and repairs invalid UTF-8 its own way where it reads it at all, while the
            // reader replaces each invalid sequence by one U+FFFD and keeps the bytes after it, as a shell sees them.
            var reference = old(bytes)
            if hasLenientString(bytes), let node = JSONAdapter.node(bytes) {
                reference = old(Array(write(node).utf8))
            }
            return same(mine, reference) ? nil : "reader decoded differently from Codable: \(show)"
        }
        if old(bytes) != nil && foundationAccepts(bytes) && !looksWide(bytes) { return "reader refused what Codable and Foundation read: \(show)" }
        return nil
    }

    /// Valid JSON for a node (strings as JSONCoding quotes them).
    static func write(_ n: JSONNode) -> String {
        switch n {
        case .null: return "null"
        case .bool(let v): return v ? "true" : "false"
        case .number(let t): return t
        case .string(let s): return JSONCoding.quoted(s)
        case .array(let a): return "[" + a.map(write).joined(separator: ",") + "]"
        case .object(let m): return "{" + m.map { JSONCoding.quoted($0.0) + ":" + write($0.1) }.joined(separator: ",") + "}"
        }
    }

    static func oldPreToolUse(_ b: [UInt8]) -> PreToolUseInput? { try? JSONDecoder().decode(PreToolUseInput.self, from: Data(b)) }
    static func oldHook(_ b: [UInt8]) -> HookInput? { try? JSONDecoder().decode(HookInput.self, from: Data(b)) }
    static func oldManifest(_ b: [UInt8]) -> SessionManifest? { try? JSONDecoder().decode(SessionManifest.self, from: Data(b)) }

    static func same(_ a: HookInput?, _ b: HookInput?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        func s(_ x: String?, _ y: String?) -> Bool { x.map { Array($0.utf8) } == y.map { Array($0.utf8) } }
        return s(a.sessionID, b.sessionID) && s(a.cwd, b.cwd) && s(a.hookEventName, b.hookEventName) && s(a.transcriptPath, b.transcriptPath)
            && s(a.turnID, b.turnID) && s(a.toolName, b.toolName) && a.stopHookActive == b.stopHookActive && s(a.source, b.source) && s(a.reason, b.reason)
    }

    static func same(_ a: SessionManifest?, _ b: SessionManifest?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        // Byte-exact: SessionManifest's == compares strings by canonical equivalence.
        return JSONCoding.encode(a) == JSONCoding.encode(b)
    }
}
