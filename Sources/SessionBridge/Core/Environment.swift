#if canImport(Glibc)
import Glibc
#endif

/// The environment a command reads: the process's own, or (in tests) a given dictionary.
package struct Environment: Sendable {
    /// nil: the process environment, read variable by variable with getenv. Building a dictionary of every variable
    /// costs a short process about 0.2 ms (first use of String hashing and dictionary metadata), and most commands
    /// read five variables.
    private let given: [String: String]?

    package init(_ values: [String: String]) { given = values }

    private init() { given = nil }

    /// The process's environment. Nothing here changes it before reading (`launch` sets one variable right before
    /// exec).
    package static func current() -> Environment { Environment() }

    /// Every variable (the shell scanner expands `$VAR` with them).
    package var values: [String: String] {
        if let given { return given }
        var values: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                values[String(s[..<eq])] = String(s[s.index(after: eq)...])
            }
            pointer += 1
        }
        return values
    }

    /// The variable's value; nil when unset or empty.
    package subscript(_ key: String) -> String? {
        let v = given.map { $0[key] } ?? getenv(key).map { String(cString: $0) }
        guard let v, !v.isEmpty else { return nil }
        return v
    }

    /// True for the process's own environment (facts of the process, like its terminal, belong to it).
    package var isProcess: Bool { given == nil }

    package func integer(_ key: String) -> Int? { self[key].flatMap { Int($0) } }
}
