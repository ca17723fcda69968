/// The dashboard's secret: 32 random bytes as 64 hex characters, printed in the URL once and then kept in a cookie.
/// Every request must carry it; the comparison takes the same time wherever the first difference lies.
package struct AccessToken: Sendable, Equatable {
    package let value: String

    package init(value: String) { self.value = value }

    /// A fresh token from the system's cryptographic random source (getrandom on Linux).
    package static func random() -> AccessToken {
        var rng = SystemRandomNumberGenerator()
        var text = ""
        for _ in 0..<32 {
            let byte = UInt8.random(in: 0...255, using: &rng)
            text += (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }
        return AccessToken(value: text)
    }

    /// The cookie that carries the token after the first visit.
    package static let cookieName = "sb_dashboard"

    /// True when `candidate` is the token. Constant time in the candidate's content: every byte is compared.
    package func matches<S: StringProtocol>(_ candidate: S?) -> Bool {
        guard let candidate else { return false }
        let a = Array(value.utf8)
        let b = Array(candidate.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<a.count {
            difference |= a[i] ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }

    /// The value of cookie `name` in a Cookie header (`a=1; b=2`).
    package static func cookie(_ name: String, in header: String?) -> Substring? {
        guard let header else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.drop { $0 == " " }
            guard let eq = pair.firstIndex(of: "="), pair[..<eq] == name else { continue }
            return pair[pair.index(after: eq)...]
        }
        return nil
    }
}
