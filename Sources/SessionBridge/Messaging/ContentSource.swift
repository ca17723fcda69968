#if canImport(Glibc)
import Glibc
#endif

/// Where a message's text comes from: an argument, standard input (`-`), or a file. Large messages go through
/// stdin or a file, never through shell arguments. Reads stop one byte past the cap, so a huge input is refused
/// without being read whole.
package enum ContentSource {
    case argument(String)
    case standardInput
    case file(String)

    package static func from(text: String?, file: String?) throws(BridgeError) -> ContentSource {
        if let file {
            if text != nil { throw .invalidInput(.textTwice) }
            return .file(file)
        }
        guard let text else { return .standardInput }
        return text == "-" ? .standardInput : .argument(text)
    }

    /// The raw bytes, at most `limit + 1` of them.
    package func bytes(limit: Int) throws(BridgeError) -> [UInt8] {
        switch self {
        case .argument(let s):
            return Array(s.utf8)
        case .file(let path):
            guard FileSystem.exists(path) else { throw .invalidInput(.noSuchFile(path: path)) }
            return try readAll(fd: nil, path: path, limit: limit)
        case .standardInput:
            return try readAll(fd: 0, path: "standard input", limit: limit)
        }
    }

    private func readAll(fd given: Int32?, path: String, limit: Int) throws(BridgeError) -> [UInt8] {
        let fd = given ?? open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw FileSystem.failure(.read, path) }
        defer { if given == nil { close(fd) } }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while out.count <= limit {
            let n = chunk.withUnsafeMutableBytes { SystemCall.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 { throw FileSystem.failure(.read, path) }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }
}
