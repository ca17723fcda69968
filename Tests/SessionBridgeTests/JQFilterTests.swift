import Testing
@testable import SessionBridge

@Suite struct JQFilterTests {
    @Test func runsPrograms() throws {
        let f = try JQFilter(".a + 1")
        #expect(try f.run(json: #"{"a": 41}"#) == ["42"])
        #expect(try f.run(json: #"{"a": 1}"#) == ["2"])   // compiled once, reused
    }

    @Test func selectSemantics() throws {
        let f = try JQFilter(#".type == "query""#)
        #expect(try f.matches(json: #"{"type":"query"}"#))
        #expect(try !f.matches(json: #"{"type":"response"}"#))
        let s = try JQFilter(#"select(.n > 1)"#)
        #expect(try s.matches(json: #"{"n":2}"#))
        #expect(try !s.matches(json: #"{"n":0}"#))
        #expect(try !JQFilter("null").matches(json: "{}"))
    }

    @Test func compileErrorIsOneLine() {
        do {
            _ = try JQFilter(".name ==")
            Issue.record("expected a compile error")
        } catch {
            #expect(error.exitCode == 7)
            #expect(error.message.contains("syntax error"))
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func runtimeErrorsAndBadInput() throws {
        #expect(throws: BridgeError.self) { try JQFilter(#"error("boom")"#).run(json: "{}") }
        #expect(throws: BridgeError.self) { try JQFilter(".[0]").run(json: #"{"a":1}"#) }
        #expect(throws: BridgeError.self) { try JQFilter(".").run(json: "{not json") }
        #expect(throws: BridgeError.self) { try JQFilter("a\u{0}b") }
    }
}
