import Testing
@testable import SessionBridge

@Suite struct GuardPathsTests {
    /// Lexical collapse as it was first written (components as substrings), the reference for the byte-level one.
    static func referenceCollapse(_ path: String) -> String {
        var parts: [Substring] = []
        for p in path.split(separator: "/", omittingEmptySubsequences: true) {
            if p == "." { continue }
            if p == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(p)
        }
        return "/" + parts.joined(separator: "/")
    }

    @Test func collapseMatchesTheComponentLevelDefinition() {
        var r = Lcg(seed: 11)
        let pieces = ["/", "//", ".", "..", "a", "é", "e\u{301}", "...", ".a", "a.", " ", "b c", "🎉", "\u{2215}", "x/"]
        var paths = ["", "/", "//", "/.", "/..", "/../..", "a/b/../../..", "/a/./b/../c", "./x", "../y", "/a//b///c/", "/é/../e\u{301}"]
        for _ in 0..<3000 { paths.append((0..<r.next(9)).map { _ in pieces[r.next(pieces.count)] }.joined()) }
        for p in paths {
            #expect(Array(GuardPaths.collapse(p).utf8) == Array(Self.referenceCollapse(p).utf8), "\(p.debugDescription)")
            #expect(Array(TalkLocation.collapse(p).utf8) == Array(GuardPaths.collapse(p).utf8))
        }
        // Components are split at the byte '/', as the kernel splits them, even where a combining mark follows it
        // (one Character with the slash, which a split by Character would not cut).
        #expect(GuardPaths.collapse("/x/../\u{301}") == "/\u{301}")
    }
}
