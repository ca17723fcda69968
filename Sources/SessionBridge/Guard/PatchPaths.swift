/// The files a Codex `apply_patch` patch touches, read as leniently as Codex reads it: markers may carry leading and
/// trailing whitespace, lines may end in CRLF, the patch may be wrapped in a here-document (`<<'EOF'` … `EOF`), and
/// marker case is not trusted. A header line anywhere counts, so a marker hidden where Codex would not see it can
/// only make the guard stricter.
enum ApplyPatch {
    struct Change: Equatable {
        var path: String
        /// Deleted or moved away: the path itself goes (a symlink there is removed, not followed).
        var removes: Bool
    }

    static let markers: [(String, Bool)] = [("*** add file:", false), ("*** delete file:", true), ("*** update file:", false), ("*** move to:", false)]

    static func paths(in patch: String) -> [Change] {
        var out: [Change] = []
        var lastUpdate: Int?
        for raw in patch.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            let line = raw.trimmingCharacters(in: " \t\u{0B}\u{0C}\u{FEFF}")
            guard line.hasPrefix("***") || line.hasPrefix("* **") else { continue }
            let lower = line.lowercased()
            // Collapse runs of spaces after the stars, as a lenient reader might.
            let normalized = lower.replacing("***  ", with: "*** ")
            for (marker, removes) in markers where normalized.hasPrefix(marker) {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let path = String(line[line.index(after: colon)...]).trimmingCharacters(in: " \t")
                guard !path.isEmpty else { continue }
                if marker == "*** move to:", let u = lastUpdate { out[u].removes = true }
                out.append(Change(path: path, removes: removes))
                lastUpdate = marker == "*** update file:" ? out.count - 1 : nil
            }
        }
        return out
    }
}

/// The files a unified or git diff names (`--- a/x`, `+++ b/x`, `diff --git a/x b/y`, `rename to`, `copy to`), for
/// `patch` and `git apply`. Prefixes `a/` and `b/` are kept: callers try every strip level.
enum UnifiedDiff {
    static func paths(in text: String) -> [String] {
        var out: [String] = []
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }).prefix(100_000) {
            let line = String(raw)
            var path: String?
            if line.hasPrefix("+++ ") || line.hasPrefix("--- ") || line.hasPrefix("*** ") {
                path = String(line.dropFirst(4)).split(separator: "\t").first.map(String.init)
            } else if line.hasPrefix("rename to ") || line.hasPrefix("copy to ") || line.hasPrefix("rename from ") {
                path = String(line.split(separator: " ", maxSplits: 2).last ?? "")
            } else if line.hasPrefix("diff --git ") {
                out += line.dropFirst(11).split(separator: " ").map(String.init)
            } else if line.hasPrefix("Index: ") {
                path = String(line.dropFirst(7))
            }
            if var p = path?.trimmingCharacters(in: " \"") {
                if p == "/dev/null" { continue }
                if p.hasSuffix(" ") { p = p.trimmingCharacters(in: " ") }
                if !p.isEmpty { out.append(p) }
            }
        }
        return out
    }
}
