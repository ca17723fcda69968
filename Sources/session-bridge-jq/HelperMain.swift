#if canImport(Glibc)
import Glibc
#endif
import JQ

enum HelperMain {
    static func run() -> Never {
        let args = CommandLine.arguments
        guard args.count == 2 else {
            emit("E usage: session-bridge-jq PROGRAM")
            exit(64)
        }
        let filter: JQFilter
        do {
            filter = try JQFilter(args[1])
        } catch {
            emit("E " + error.message)
            exit(7)
        }
        emit("ready")
        while let line = readLine(strippingNewline: true) {
            do {
                emit(try filter.matches(json: line) ? "1" : "0")
            } catch {
                emit("E " + error.message.replacing("\n", with: " "))
            }
        }
        exit(0)
    }

    static func emit(_ s: String) {
        let bytes = Array((s + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if n < 0 && errno == EINTR { continue }; exit(1) }
            offset += n
        }
    }
}
