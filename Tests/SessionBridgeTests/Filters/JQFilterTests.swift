import Foundation
import Testing
@testable import JQ
import SessionBridge

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
            #expect(error.message.contains("syntax error"))
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func runtimeErrorsAndBadInput() throws {
        #expect(throws: JQError.self) { try JQFilter(#"error("boom")"#).run(json: "{}") }
        #expect(throws: JQError.self) { try JQFilter(".[0]").run(json: #"{"a":1}"#) }
        #expect(throws: JQError.self) { try JQFilter(".").run(json: "{not json") }
        #expect(throws: JQError.self) { try JQFilter("a\u{0}b") }
    }
}

/// The static main binary runs jq programs through the session-bridge-jq helper.
@Suite struct JQProgramTests {
    var helper: String { URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("session-bridge-jq").path }

    @Test func matchesThroughTheHelper() throws {
        let p = try JQProgram(#".type == "query""#, helper: helper)
        #expect(try p.matches(json: #"{"type":"query"}"#))
        #expect(try !p.matches(json: #"{"type":"pong"}"#))
        for i in 0..<100 { #expect(try p.matches(json: #"{"type":"query","n":\#(i)}"#)) }
    }

    @Test func compileErrorsAreBadFilters() {
        do {
            _ = try JQProgram(".a |||", helper: helper)
            Issue.record("expected a compile error")
        } catch {
            #expect(error.exitCode == 7)
            #expect(error.message.contains("syntax error"))
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func runtimeErrorsAreBadFiltersAndTheProgramGoesOn() throws {
        let p = try JQProgram(".a.b", helper: helper)
        #expect(throws: BridgeError.self) { try p.matches(json: #"{"a":"text"}"#) }
        #expect(try p.matches(json: #"{"a":{"b":1}}"#))
    }

    @Test func missingHelperIsAClearError() {
        #expect(throws: BridgeError.self) { try JQProgram(".", helper: "/nonexistent/session-bridge-jq") }
    }

    /// jq support is optional: a helper whose libjq cannot be loaded gives one line naming the package to install
    /// (the loader's own message is not passed through).
    @Test func missingLibjqIsOneLineNamingThePackage() throws {
        let dir = makeTempDir("jq-missing-lib")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: helper)))
        let needle = Array("libjq.so.1\0".utf8)
        let at = try #require((0...(bytes.count - needle.count)).first { bytes[$0..<($0 + needle.count)].elementsEqual(needle) })
        bytes[at + needle.count - 2] = UInt8(ascii: "9")   // needs libjq.so.9, which no system has
        let patched = dir + "/session-bridge-jq"
        try Data(bytes).write(to: URL(fileURLWithPath: patched))
        chmod(patched, 0o755)
        do {
            _ = try JQProgram(".", helper: patched)
            Issue.record("expected the missing library to be reported")
        } catch {
            #expect(error == JQProgram.missingLibraries)
            #expect(error.message.contains("sudo apt install libjq1"))
            #expect(!error.message.contains("\n"))
        }
    }

    /// A helper that dies at start for another reason is not taken for missing libraries.
    @Test func aHelperThatDiesIsNotAMissingLibrary() throws {
        let dir = makeTempDir("jq-dies")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = dir + "/session-bridge-jq"
        try "#!/bin/sh\necho 'it broke' >&2\nexit 3\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        do {
            _ = try JQProgram(".", helper: script)
            Issue.record("expected a failure")
        } catch {
            #expect(error.exitCode == 7)
            #expect(error.message == "bad jq filter: the jq helper stopped unexpectedly (in '.')")
        }
    }
}
