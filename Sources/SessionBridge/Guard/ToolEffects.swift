/// What a tool call may write or destroy: the reusable answer the guard (and later, edit reservations) decide on.
///
/// Paths are absolute and, where they exist, resolved through symlinks (including links the same command makes).
/// A path that depends on something unknowable (a command's output, an unset variable, a file list read from a
/// pipe) is `anywhere` or `under` the folder it is known to stay in.
package struct ToolEffects: Sendable {
    /// A place a write may land.
    package enum Place: Equatable, Sendable {
        /// This path (the node itself; with scope `.tree`, everything beneath it too).
        case exact(String)
        /// Some path inside this folder (or the folder itself).
        case under(String)
        /// Any path at all.
        case anywhere
    }

    package enum Scope: Sendable {
        /// Creates, changes or removes the node at the path.
        case node
        /// Changes or removes the path and everything beneath it (rm -r, mv of a folder, extraction into it …).
        case tree
        /// Creates or changes the node and may add or replace anything beneath it, keeping what is there: a recursive
        /// copy, sync or move of a folder (`cp -r src/. dst`, `rsync -a src/ dst/`). The store guard judges the node
        /// (and the source's entries that meet a guarded folder); reservations treat it as a write to every path
        /// beneath that their globs could match.
        case contents
    }

    package enum Effect: Sendable {
        /// A known writer writes here.
        case write(Place, Scope, by: String)
        /// A program whose writes are not modelled, run in `cwd` with arguments that may name `arguments`.
        case opaque(program: String, cwd: Place, arguments: [Place])
        /// Code in another language (or a script file); nil text when it cannot be known, `network` when it is
        /// downloaded by the same command.
        case script(language: String, text: String?, network: Bool, cwd: Place)
    }

    package var effects: [Effect] = []
    /// Set when the analysis ran out of budget: nothing can be said, so everything may be written.
    package var exhausted = false

    /// The places this call may write: nil when that is not knowable (an unmodelled program or script, or an
    /// exhausted analysis).
    package var writtenPlaces: [(Place, Scope)]? {
        if exhausted { return nil }
        var out: [(Place, Scope)] = []
        for e in effects {
            switch e {
            case .write(let p, let s, _): out.append((p, s))
            case .opaque, .script: return nil
            }
        }
        return out
    }
}

/// Marker characters inside expanded words: an unknowable part, an opaque part (a value that is no path and no
/// name of a guarded folder, such as a date or a process id), and a list of paths inside a folder.
enum Marker {
    static let any: Character = "\u{2}"
    static let opaque: Character = "\u{1}"
    static let underStart: Character = "\u{3}"
    static let underEnd: Character = "\u{4}"
    static let anyString = "\u{2}"
    static let opaqueString = "\u{1}"

    static func under(_ path: String) -> String { "\u{3}" + path + "\u{4}" }

    static func isPlain(_ s: String) -> Bool { !s.unicodeScalars.contains { $0.value >= 1 && $0.value <= 4 } }
}
