#if canImport(Glibc)
import Glibc
#endif

/// A snapshot of the process environment. Passed explicitly so tests can supply their own.
public struct Environment: Sendable {
    public var values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    /// The process's environment, read once: a command asks for it several times, and nothing here changes it
    /// before reading (`launch` sets one variable right before exec).
    public static func current() -> Environment { snapshot }

    private static let snapshot = read()

    static func read() -> Environment {
        var values: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                values[String(s[..<eq])] = String(s[s.index(after: eq)...])
            }
            pointer += 1
        }
        return Environment(values)
    }

    public subscript(_ key: String) -> String? {
        guard let v = values[key], !v.isEmpty else { return nil }
        return v
    }

    public func integer(_ key: String) -> Int? { self[key].flatMap { Int($0) } }
}
