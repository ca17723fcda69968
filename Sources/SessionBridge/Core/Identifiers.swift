import CSys

/// Generates and validates the ids the store uses as file names.
package enum Identifiers {
    static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        if bytes.withUnsafeMutableBytes({ csys_getrandom($0.baseAddress!, count) }) != 0 {
            var rng = SystemRandomNumberGenerator()
            for i in 0..<count { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        }
        return bytes
    }

    /// A UUID version 7 (RFC 9562): millisecond timestamp first, so names sort in creation order.
    package static func messageID(nowNanoseconds: Int64 = Clock.nowNanoseconds()) -> String {
        var b = randomBytes(16)
        let ms = UInt64(nowNanoseconds / 1_000_000)
        for i in 0..<6 { b[i] = UInt8(truncatingIfNeeded: ms >> UInt64(40 - 8 * i)) }
        b[6] = (b[6] & 0x0f) | 0x70
        b[8] = (b[8] & 0x3f) | 0x80
        return uuidText(Array(Hex.lower(b).utf8))
    }

    /// 32 hex digits as a UUID's text: 8-4-4-4-12.
    static func uuidText(_ c: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (i, d) in c.prefix(32).enumerated() {
            if i == 8 || i == 12 || i == 16 || i == 20 { out.append(0x2D) }
            out.append(d)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The id of the one reply to message `id`: derived from it (UUID version 8, the question's millisecond prefix
    /// followed by SHA-256 bits), so every process can tell whether a question has been answered from the reply's
    /// existence alone, and a second reply can never be published beside the first.
    package static func replyID(for id: String) -> String {
        if id.utf8.allSatisfy({ $0 < 0x80 }) { return asciiReplyID(for: id) }
        let hash = Array(SHA256.hex("session-bridge reply to " + id.lowercased()))
        var c = hash.prefix(32).map { $0 }
        let source = Array(id.lowercased().filter { $0 != "-" })
        if source.count == 32, source.allSatisfy({ $0.isHexDigit }) {
            for i in 0..<12 { c[i] = source[i] }
        }
        c[12] = "8"
        let variant = Int(String(c[16]), radix: 16) ?? 0
        c[16] = Array("89ab")[variant & 3]
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }

    /// `replyID` for an ASCII id, byte by byte.
    static func asciiReplyID(for id: String) -> String {
        let lower = id.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }
        var c = Array(Hex.lower(SHA256.digest(Array("session-bridge reply to ".utf8) + lower)).utf8.prefix(32))
        let source = lower.filter { $0 != 0x2D }
        if source.count == 32, source.allSatisfy({ Hex.value($0) != nil }) {
            for i in 0..<12 { c[i] = source[i] }
        }
        c[12] = 0x38
        let variant = Hex.value(c[16]) ?? 0
        c[16] = Array("89ab".utf8)[Int(variant & 3)]
        return uuidText(c)
    }

    /// Alphabet for short session ids: lower-case letters and digits without look-alikes (0/o, 1/l/i).
    static let sessionAlphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")

    /// An 8-character session id a person can type.
    package static func sessionID() -> String {
        String(randomBytes(8).map { sessionAlphabet[Int($0) % sessionAlphabet.count] })
    }

    /// Ids are used as file names: only ASCII letters, digits and '-', 1-64 characters.
    package static func isValidID(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 64 else { return false }
        return s.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45
        }
    }

    package static func validateID(_ s: String) throws(BridgeError) -> String {
        guard isValidID(s) else { throw .invalidID(printable(s)) }
        return s.lowercased()
    }

    /// Session names: 1-64 of letters, digits, '.', '_', '-', not starting with '.' or '-'.
    package static func isValidName(_ s: String) -> Bool {
        guard let first = s.utf8.first, s.utf8.count <= 64, first != 46, first != 45 else { return false }
        return s.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 46 || c == 95
        }
    }

    /// Turns a folder name into a valid session name (invalid characters become '-').
    package static func sanitizedName(_ s: String) -> String {
        var out = String(s.unicodeScalars.map { u -> Character in
            let c = u.value
            let ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 46 || c == 95
            return ok ? Character(u) : "-"
        })
        while out.hasPrefix(".") || out.hasPrefix("-") { out.removeFirst() }
        if out.utf8.count > 48 { out = String(out.prefix(48)) }
        return out.isEmpty ? "session" : out
    }

    /// A user-supplied string made safe to echo in a one-line error.
    package static func printable(_ s: String) -> String {
        let cleaned = s.unicodeScalars.map { u -> String in
            u.value < 32 || u.value == 127 ? "\\u{\(String(u.value, radix: 16))}" : String(u)
        }.joined()
        return cleaned.count > 80 ? String(cleaned.prefix(80)) + "…" : cleaned
    }
}
