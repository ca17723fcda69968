import Testing
@testable import SessionBridge

@Suite struct IdentifiersTests {
    @Test func messageIDsAreUUIDv7AndSortByTime() {
        let a = Identifiers.messageID(nowNanoseconds: 1_700_000_000_000_000_000)
        let b = Identifiers.messageID(nowNanoseconds: 1_700_000_000_001_000_000)
        #expect(a.count == 36)
        #expect(Array(a)[14] == "7")
        #expect(a < b)
        #expect(Identifiers.isValidID(a))
    }

    @Test func sessionIDsAreShortAndTypable() {
        let ids = (0..<200).map { _ in Identifiers.sessionID() }
        #expect(Set(ids).count == 200)
        for id in ids {
            #expect(id.count == 8)
            #expect(!id.contains("0") && !id.contains("o") && !id.contains("l") && !id.contains("1"))
        }
    }

    @Test(arguments: ["../x", "/", "a/b", "x\u{0}y", "", "name with space", String(repeating: "a", count: 65), "é"])
    func rejectsPathLikeIDs(_ s: String) {
        #expect(!Identifiers.isValidID(s))
        #expect(throws: BridgeError.self) { try Identifiers.validateID(s) }
    }

    @Test func names() {
        #expect(Identifiers.isValidName("my-lib_2.0"))
        #expect(!Identifiers.isValidName(".hidden"))
        #expect(!Identifiers.isValidName("-flag"))
        #expect(!Identifiers.isValidName("a/b"))
        #expect(Identifiers.sanitizedName("My Project (v2)") == "My-Project--v2-")
        #expect(Identifiers.sanitizedName("...") == "session")
    }

    @Test func printableEscapesControlCharacters() {
        #expect(Identifiers.printable("a\u{0}b\nc") == "a\\u{0}b\\u{a}c")
    }

    /// The reply id as it was first written (Character arithmetic), the reference for the byte-level one.
    static func referenceReplyID(for id: String) -> String {
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

    @Test func replyIDsMatchTheCharacterLevelDerivation() {
        var ids = (0..<300).map { _ in Identifiers.messageID() }
        ids += ids.prefix(50).map { $0.uppercased() }
        ids += ["", "abc", "kgndjmem", "01A1FF27-9A0C-7817-8522-818FFC0BDD7E", "01a1ff279a0c78178522818ffc0bdd7e", "zz1ff27-9a0c-7817-8522-818ffc0bdd7e",
                "01a1ff27-9a0c-7817-8522-818ffc0bdd7é", "ÉTÉ", "-"]
        for id in ids { #expect(Identifiers.replyID(for: id) == Self.referenceReplyID(for: id), "\(id)") }
    }

    @Test func messageIDsAreVersion7UUIDText() {
        for _ in 0..<200 {
            let id = Identifiers.messageID()
            let u = Array(id.utf8)
            #expect(u.count == 36 && u[8] == 45 && u[13] == 45 && u[18] == 45 && u[23] == 45 && u[14] == 55)
            #expect("89ab".utf8.contains(u[19]))
            #expect(id.utf8.allSatisfy { $0 == 45 || Hex.value($0) != nil } && id == id.lowercased())
        }
    }

    @Test func hexIsTwoLowerCaseDigitsPerByte() {
        #expect(Hex.lower([]) == "")
        #expect(Hex.lower([0, 9, 10, 15, 16, 0xab, 0xff]) == "00090a0f10abff")
        let all = (0...255).map { UInt8($0) }
        #expect(Hex.lower(all) == all.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())
        for c in (0...255).map({ UInt8($0) }) {
            #expect(Hex.value(c) == UInt8(String(UnicodeScalar(c)), radix: 16))
        }
    }
}
