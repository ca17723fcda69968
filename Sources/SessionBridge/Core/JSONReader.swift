/// A small JSON reader for the hot paths (hook input, session manifests), without Codable: decoding those through
/// JSONDecoder spends most of its time in the Swift runtime's generic type and conformance look-ups.
///
/// The structure is as strict as Foundation's JSONSerialization: RFC 8259 numbers (finite as a Double), literals,
/// whitespace (space, tab, LF, CR), no raw control characters in strings, nesting at most 512 deep, nothing after
/// the value but whitespace, one leading UTF-8 byte order mark allowed. Like Foundation it accepts a trailing comma
/// in an array or an object. Strings are lenient where a host can produce them: a lone surrogate escape (which
/// JavaScript's JSON.stringify writes) and invalid UTF-8 read as U+FFFD, so the guard still analyses such a command.
/// Of duplicate keys the first one counts, as with JSONDecoder.
package enum JSONNode: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number's text, as written (checked against the grammar).
    case number(String)
    case string(String)
    case array([JSONNode])
    /// Members in document order, duplicates kept.
    case object([(String, JSONNode)])

    package static func == (a: JSONNode, b: JSONNode) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            for i in 0..<x.count where !(x[i].0.utf8.elementsEqual(y[i].0.utf8) && x[i].1 == y[i].1) { return false }
            return true
        default: return false
        }
    }

    /// The value of the first member named `key` (nil: not an object, or no such member).
    package subscript(key: String) -> JSONNode? {
        guard case .object(let members) = self else { return nil }
        for (k, v) in members where k == key { return v }
        return nil
    }

    /// The members as a dictionary, the first of duplicate keys kept (nil: not an object).
    package var members: [(String, JSONNode)]? {
        if case .object(let m) = self { return m }
        return nil
    }
}

/// Why a document was refused (its byte offset), for tests and reports.
package struct JSONReadError: Error, Equatable, Sendable {
    package var offset: Int
}

package enum JSONReader {
    /// The deepest nesting of arrays and objects accepted (Foundation's limit).
    package static let maximumDepth = 512

    /// Parses one JSON document.
    package static func parse(_ bytes: [UInt8]) throws(JSONReadError) -> JSONNode {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONReadError) -> JSONNode in
            var p = Parser(b: buffer, i: 0)
            if buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { p.i = 3 }
            p.skipSpace()
            let v = try p.value(depth: 0)
            p.skipSpace()
            guard p.i == buffer.count else { throw JSONReadError(offset: p.i) }
            return v
        }
    }

    /// Parses one JSON document, nil when it is not one.
    package static func node(_ bytes: [UInt8]) -> JSONNode? { try? parse(bytes) }

    private struct Parser {
        let b: UnsafeBufferPointer<UInt8>
        var i: Int

        mutating func skipSpace() {
            while i < b.count {
                switch b[i] {
                case 0x20, 0x09, 0x0A, 0x0D: i += 1
                default: return
                }
            }
        }

        func fail() -> JSONReadError { JSONReadError(offset: i) }

        mutating func value(depth: Int) throws(JSONReadError) -> JSONNode {
            guard i < b.count else { throw fail() }
            switch b[i] {
            case 0x7B: return try object(depth: depth + 1)
            case 0x5B: return try array(depth: depth + 1)
            case 0x22: return .string(try string())
            case 0x74: try literal("true"); return .bool(true)
            case 0x66: try literal("false"); return .bool(false)
            case 0x6E: try literal("null"); return .null
            case 0x2D, 0x30...0x39: return .number(try number())
            default: throw fail()
            }
        }

        mutating func literal(_ word: StaticString) throws(JSONReadError) {
            let n = word.utf8CodeUnitCount
            guard b.count - i >= n else { throw fail() }
            let w = word.utf8Start
            for k in 0..<n where b[i + k] != w[k] { throw fail() }
            i += n
        }

        mutating func object(depth: Int) throws(JSONReadError) -> JSONNode {
            guard depth <= JSONReader.maximumDepth else { throw fail() }
            i += 1
            var members: [(String, JSONNode)] = []
            skipSpace()
            if i < b.count && b[i] == 0x7D { i += 1; return .object(members) }
            while true {
                guard i < b.count, b[i] == 0x22 else { throw fail() }
                let key = try string()
                skipSpace()
                guard i < b.count, b[i] == 0x3A else { throw fail() }
                i += 1
                skipSpace()
                members.append((key, try value(depth: depth)))
                skipSpace()
                guard i < b.count else { throw fail() }
                if b[i] == 0x7D { i += 1; return .object(members) }
                guard b[i] == 0x2C else { throw fail() }
                i += 1
                skipSpace()
                // Foundation accepts one trailing comma.
                if i < b.count && b[i] == 0x7D { i += 1; return .object(members) }
            }
        }

        mutating func array(depth: Int) throws(JSONReadError) -> JSONNode {
            guard depth <= JSONReader.maximumDepth else { throw fail() }
            i += 1
            var items: [JSONNode] = []
            skipSpace()
            if i < b.count && b[i] == 0x5D { i += 1; return .array(items) }
            while true {
                items.append(try value(depth: depth))
                skipSpace()
                guard i < b.count else { throw fail() }
                if b[i] == 0x5D { i += 1; return .array(items) }
                guard b[i] == 0x2C else { throw fail() }
                i += 1
                skipSpace()
                if i < b.count && b[i] == 0x5D { i += 1; return .array(items) }
            }
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, and finite as a Double.
        mutating func number() throws(JSONReadError) -> String {
            let start = i
            func digits(_ p: inout Parser) -> Int {
                let s = p.i
                while p.i < p.b.count, p.b[p.i] >= 0x30, p.b[p.i] <= 0x39 { p.i += 1 }
                return p.i - s
            }
            if b[i] == 0x2D { i += 1 }
            guard i < b.count else { throw fail() }
            if b[i] == 0x30 {
                i += 1
            } else if digits(&self) == 0 {
                throw fail()
            }
            var plainInteger = true
            if i < b.count && b[i] == 0x2E {
                i += 1
                plainInteger = false
                guard digits(&self) > 0 else { throw fail() }
            }
            if i < b.count && (b[i] == 0x65 || b[i] == 0x45) {
                i += 1
                plainInteger = false
                if i < b.count && (b[i] == 0x2B || b[i] == 0x2D) { i += 1 }
                guard digits(&self) > 0 else { throw fail() }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
            // A plain integer of up to 300 digits is always finite; anything else is checked.
            if !plainInteger || i - start > 300 {
                guard let d = Double(text), d.isFinite else { i = start; throw fail() }
            }
            return text
        }

        mutating func string() throws(JSONReadError) -> String {
            i += 1
            let start = i
            // The common case: no escapes.
            while i < b.count {
                let c = b[i]
                if c == 0x22 {
                    let s = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
                    i += 1
                    return s
                }
                if c == 0x5C { break }
                guard c >= 0x20 else { throw fail() }
                i += 1
            }
            var out: [UInt8] = Array(UnsafeBufferPointer(rebasing: b[start..<i]))
            while i < b.count {
                let c = b[i]
                switch c {
                case 0x22:
                    i += 1
                    return String(decoding: out, as: UTF8.self)
                case 0x5C:
                    i += 1
                    guard i < b.count else { throw fail() }
                    let e = b[i]
                    i += 1
                    switch e {
                    case 0x22, 0x5C, 0x2F: out.append(e)
                    case 0x62: out.append(0x08)
                    case 0x66: out.append(0x0C)
                    case 0x6E: out.append(0x0A)
                    case 0x72: out.append(0x0D)
                    case 0x74: out.append(0x09)
                    case 0x75: try unicodeEscape(into: &out)
                    default: i -= 1; throw fail()
                    }
                default:
                    guard c >= 0x20 else { throw fail() }
                    out.append(c)
                    i += 1
                }
            }
            throw fail()
        }

        /// After `\u`: four hex digits, a surrogate pair when one follows; a lone surrogate becomes U+FFFD.
        mutating func unicodeEscape(into out: inout [UInt8]) throws(JSONReadError) {
            let unit = try hex4()
            var scalar: UInt32
            if unit >= 0xD800 && unit < 0xDC00 {
                // A high surrogate: a low one must follow as `\uXXXX` to make a pair.
                if b.count - i >= 6 && b[i] == 0x5C && b[i + 1] == 0x75 {
                    let save = i
                    i += 2
                    let low = try hex4()
                    if low >= 0xDC00 && low < 0xE000 {
                        scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        // Not a pair: the high one stands alone; the next escape is read on its own.
                        i = save
                        scalar = 0xFFFD
                    }
                } else {
                    scalar = 0xFFFD
                }
            } else if unit >= 0xDC00 && unit < 0xE000 {
                scalar = 0xFFFD
            } else {
                scalar = unit
            }
            appendUTF8(scalar, to: &out)
        }

        mutating func hex4() throws(JSONReadError) -> UInt32 {
            guard b.count - i >= 4 else { throw fail() }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = b[i]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw fail()
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }

        func appendUTF8(_ s: UInt32, to out: inout [UInt8]) {
            switch s {
            case 0..<0x80: out.append(UInt8(s))
            case 0x80..<0x800:
                out.append(UInt8(0xC0 | s >> 6)); out.append(UInt8(0x80 | s & 0x3F))
            case 0x800..<0x10000:
                out.append(UInt8(0xE0 | s >> 12)); out.append(UInt8(0x80 | s >> 6 & 0x3F)); out.append(UInt8(0x80 | s & 0x3F))
            default:
                out.append(UInt8(0xF0 | s >> 18)); out.append(UInt8(0x80 | s >> 12 & 0x3F))
                out.append(UInt8(0x80 | s >> 6 & 0x3F)); out.append(UInt8(0x80 | s & 0x3F))
            }
        }
    }
}

/// Typed reads of a parsed document with the rules a synthesized `Decodable` applies: a missing or null optional
/// field is nil, a field of the wrong type fails the whole document.
package struct JSONFields {
    let members: [(String, JSONNode)]

    /// The fields of an object (nil: the document is not an object).
    package init?(_ node: JSONNode) {
        guard case .object(let m) = node else { return nil }
        members = m
    }

    func first(_ key: String) -> JSONNode? {
        for (k, v) in members where k == key { return v }
        return nil
    }

    /// An optional string: `.some(nil)` when missing or null, nil when of another type.
    package func optionalString(_ key: String) -> String?? {
        switch first(key) {
        case nil, .null?: return .some(nil)
        case .string(let s)?: return .some(s)
        default: return nil
        }
    }

    package func string(_ key: String) -> String? {
        if case .string(let s)? = first(key) { return s }
        return nil
    }

    package func optionalBool(_ key: String) -> Bool?? {
        switch first(key) {
        case nil, .null?: return .some(nil)
        case .bool(let v)?: return .some(v)
        default: return nil
        }
    }

    /// A signed integer field: a plain JSON integer (no fraction, no exponent) within `Int64`.
    package func int64(_ key: String) -> Int64? {
        guard case .number(let text)? = first(key) else { return nil }
        if let v = JSONFields.parseInteger(text) { return v }
        return JSONFields.wholeNumber(text).flatMap { Int64(exactly: $0) }
    }

    package func int32(_ key: String) -> Int32? { int64(key).flatMap { Int32(exactly: $0) } }

    /// A number written with a fraction or an exponent whose value is a whole number (`1.0`, `1e2`), as
    /// JSONDecoder reads it into an integer field.
    static func wholeNumber(_ text: String) -> Double? {
        guard let d = Double(text), d.isFinite, d == d.rounded(.towardZero) else { return nil }
        return d
    }

    /// An optional unsigned integer: `.some(nil)` when missing or null, nil when not an integer in range.
    package func optionalUInt64(_ key: String) -> UInt64?? {
        switch first(key) {
        case nil, .null?: return .some(nil)
        case .number(let text)?:
            guard let v = JSONFields.parseUnsigned(text) ?? JSONFields.wholeNumber(text).flatMap({ UInt64(exactly: $0) }) else { return nil }
            return .some(v)
        default: return nil
        }
    }

    static func parseInteger(_ text: String) -> Int64? {
        var negative = false
        var magnitude: UInt64 = 0
        var any = false
        for (k, c) in text.utf8.enumerated() {
            if k == 0 && c == 0x2D { negative = true; continue }
            guard c >= 0x30 && c <= 0x39 else { return nil }
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (n, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
            guard !o1 && !o2 else { return nil }
            magnitude = n
            any = true
        }
        guard any else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    static func parseUnsigned(_ text: String) -> UInt64? {
        if text == "-0" { return 0 }
        var v: UInt64 = 0
        var any = false
        for c in text.utf8 {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (n, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
            guard !o1 && !o2 else { return nil }
            v = n
            any = true
        }
        return any ? v : nil
    }

    /// An optional list of strings: nil when present but not a list of strings.
    package func optionalStrings(_ key: String) -> [String]?? {
        switch first(key) {
        case nil, .null?: return .some(nil)
        case .array(let items)?:
            var out: [String] = []
            out.reserveCapacity(items.count)
            for item in items {
                guard case .string(let s) = item else { return nil }
                out.append(s)
            }
            return .some(out)
        default: return nil
        }
    }
}
