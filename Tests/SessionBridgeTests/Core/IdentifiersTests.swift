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
}
