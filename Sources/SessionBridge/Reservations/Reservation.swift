#if canImport(Glibc)
import Glibc
#endif

/// One edit reservation: a session holds a path or glob of a project, exclusively or shared, until it releases it,
/// ends, its process goes away, or the reservation's time runs out (renewed while it works there).
package struct Reservation: Codable, Sendable, Equatable {
    /// The pattern, relative to the project root, normalized (`src/api`, `src/**/*.swift`, `**` for the whole project).
    package var pattern: String
    /// Shared reservations coexist with each other; an exclusive one conflicts with every other holder's.
    package var shared: Bool
    /// The holder's bridge session id, name and agent runtime.
    package var holder: String
    package var holderName: String
    package var agent: String
    /// The host and the project root there, as the holder saw them (another clone elsewhere shares the project).
    package var host: String
    package var root: String
    package var reason: String?
    package var since: String
    /// When it ends unless renewed.
    package var until: String
    /// How long each renewal extends it.
    package var ttlSeconds: Int

    package init(pattern: String, shared: Bool, holder: String, holderName: String, agent: String, host: String, root: String,
                reason: String?, since: String, until: String, ttlSeconds: Int) {
        self.pattern = pattern
        self.shared = shared
        self.holder = holder
        self.holderName = holderName
        self.agent = agent
        self.host = host
        self.root = root
        self.reason = reason
        self.since = since
        self.until = until
        self.ttlSeconds = ttlSeconds
    }

    package static let defaultTTLSeconds = 30 * 60
    /// The longest TTL accepted: a forgotten reservation must still end by itself.
    package static let maximumTTLSeconds = 7 * 24 * 3600
    /// The longest pattern and reason accepted.
    package static let patternLimit = 1024
    package static let reasonLimit = 1024

    package var glob: ReservationGlob { ReservationGlob(pattern) }

    /// True once `until` has passed (an unreadable time counts as expired).
    package func isExpired(now: Int64) -> Bool {
        guard let end = Clock.parseISO8601(until) else { return true }
        return end <= now
    }

    /// Whether two reservations may not both stand: another holder, overlapping paths, and one of them exclusive.
    package func conflicts(with other: Reservation) -> Bool {
        holder != other.holder && !(shared && other.shared) && glob.overlaps(other.glob)
    }
}

/// A reservation pattern as path segments: literal names, one-segment globs (`*`, `?`, `[…]`) and `**` (any number
/// of segments, none included). A pattern covers every path it matches and everything beneath them, so a folder
/// reserves its contents.
package struct ReservationGlob: Sendable, Equatable {
    package enum Segment: Sendable, Equatable {
        case literal(String)
        case glob(String)
        case any
    }

    package let segments: [Segment]

    package init(_ pattern: String) {
        segments = pattern.split(separator: "/", omittingEmptySubsequences: true).compactMap { part -> Segment? in
            if part == "." { return nil }
            if part == "**" { return .any }
            return Self.hasGlob(part) ? .glob(String(part)) : .literal(String(part))
        }
    }

    /// A literal path (relative to the root): its segments are names, whatever characters they hold.
    package init(path: String) {
        segments = path.split(separator: "/", omittingEmptySubsequences: true).map { .literal(String($0)) }
    }

    static func hasGlob(_ s: Substring) -> Bool { s.contains("*") || s.contains("?") || s.contains("[") }

    /// The folder the pattern stays in: its segments before the first glob.
    package var literalPrefix: String {
        var out: [String] = []
        for s in segments {
            guard case .literal(let name) = s else { break }
            out.append(name)
        }
        return out.joined(separator: "/")
    }

    /// Whether the path (relative to the root) is matched, or lies beneath a match.
    package func covers(_ path: String) -> Bool {
        let names = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var memo: [Int: Bool] = [:]
        func go(_ i: Int, _ j: Int) -> Bool {
            if i == segments.count { return true }
            let key = i * (names.count + 1) + j
            if let known = memo[key] { return known }
            let result: Bool
            switch segments[i] {
            case .any:
                result = go(i + 1, j) || (j < names.count && go(i, j + 1))
            case .literal(let l):
                result = j < names.count && l == names[j] && go(i + 1, j + 1)
            case .glob(let g):
                result = j < names.count && Self.match(g, names[j]) && go(i + 1, j + 1)
            }
            memo[key] = result
            return result
        }
        return go(0, 0)
    }

    /// Whether some path is covered by both patterns (conservative for two globs in one segment: they overlap unless
    /// their fixed beginnings or endings differ).
    package func overlaps(_ other: ReservationGlob) -> Bool {
        let a = segments, b = other.segments
        var memo: [Int: Bool] = [:]
        func go(_ i: Int, _ j: Int) -> Bool {
            // One pattern is used up: it covers everything beneath, where the other one goes on.
            if i == a.count || j == b.count { return true }
            let key = i * (b.count + 1) + j
            if let known = memo[key] { return known }
            let result: Bool
            if a[i] == .any {
                result = go(i + 1, j) || go(i, j + 1)
            } else if b[j] == .any {
                result = go(i, j + 1) || go(i + 1, j)
            } else {
                result = Self.segmentsMeet(a[i], b[j]) && go(i + 1, j + 1)
            }
            memo[key] = result
            return result
        }
        return go(0, 0)
    }

    static func segmentsMeet(_ x: Segment, _ y: Segment) -> Bool {
        switch (x, y) {
        case (.literal(let l), .literal(let m)): return l == m
        case (.literal(let l), .glob(let g)), (.glob(let g), .literal(let l)): return match(g, l)
        case (.glob(let g), .glob(let h)):
            let (gp, gs) = fixedEnds(g), (hp, hs) = fixedEnds(h)
            return (gp.hasPrefix(hp) || hp.hasPrefix(gp)) && (gs.hasSuffix(hs) || hs.hasSuffix(gs))
        default: return true
        }
    }

    /// The literal text before the first and after the last wildcard of a one-segment glob.
    static func fixedEnds(_ g: String) -> (String, String) {
        let wild: Set<Character> = ["*", "?", "[", "]", "\\"]
        let prefix = String(g.prefix { !wild.contains($0) })
        let suffix = String(g.reversed().prefix { !wild.contains($0) }.reversed())
        return (prefix, suffix)
    }

    /// One segment against a glob, as the shell matches names (a leading dot is matched by wildcards too: a
    /// reservation covers hidden files of the folder).
    static func match(_ glob: String, _ name: String) -> Bool {
        fnmatch(glob, name, 0) == 0
    }
}
