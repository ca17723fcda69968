/// Text made safe for HTML. Everything the dashboard shows from the store (names, paths, message text, talk turns)
/// passes through here: store content is written by agents and may be hostile.
package enum HTML {
    /// Escapes text for an element's content or a quoted attribute value. Control characters other than tab and
    /// newline, and the Unicode controls that reorder text on screen (bidi overrides and isolates), are shown as
    /// visible `U+XXXX` marks, so hostile text cannot hide or disguise what it says.
    package static func escape<S: StringProtocol>(_ text: S) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for u in text.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n", "\t": out.unicodeScalars.append(u)
            default:
                if isHidden(u) {
                    out += "<span class=\"ctl\">U+" + hex(u.value) + "</span>"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    /// Control and reordering characters that would be invisible or misleading on screen.
    static func isHidden(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        return v < 0x20 || (v >= 0x7F && v < 0xA0) || (v >= 0x202A && v <= 0x202E) || (v >= 0x2066 && v <= 0x2069)
            || v == 0x200E || v == 0x200F || v == 0x061C || v == 0xFEFF
    }

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    /// Percent-encodes a value for a URL query or path segment (only unreserved characters stay).
    package static func urlComponent(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// The first `limit` characters of `text` on one line, with an ellipsis when cut.
    package static func preview(_ text: String, limit: Int = 160) -> String {
        var line = ""
        var count = 0
        for c in text {
            if count >= limit { return line + "…" }
            line.append(c.isNewline ? " " : c)
            count += 1
        }
        return line
    }
}
