#if canImport(Glibc)
import Glibc
#endif
import CProcessLimits
import JQ

/// The helper's protocol and its bounds. Answers on stdout, one line per input: "1", "0", "E <message>" (a runtime
/// error on that input), or "X <message>" (a fatal error, after which the helper exits).
enum HelperMain {
    /// Heap and mapping cap (RLIMIT_DATA): room for a message at the 4 MiB default cap many times over, but a
    /// program that builds ever larger values fails in a fraction of a second instead of eating the machine.
    static let dataLimitBytes: UInt64 = 512 << 20
    /// Address-space cap (RLIMIT_AS), above the data cap by what the runtime and libraries map at start.
    static let addressSpaceLimitBytes: UInt64 = 1 << 30
    /// Exit status after a fatal error reported with "X".
    static let fatalStatus: Int32 = 3

    static func run() -> Never {
        var args = Array(CommandLine.arguments.dropFirst())
        var parent: pid_t?
        if args.count == 3, args[0] == "--parent" {
            guard let p = pid_t(args[1]), p > 1 else {
                emit("X usage: session-bridge-jq [--parent PID] PROGRAM")
                exit(64)
            }
            parent = p
            args.removeFirst(2)
        }
        guard args.count == 1 else {
            emit("X usage: session-bridge-jq [--parent PID] PROGRAM")
            exit(64)
        }
        // Bounds first, before any jq code runs.
        // Tied to a parent, the helper's input closing means the parent is done or gone: nobody reads the answer.
        if let parent {
            ParentWatch.dieWithParent(parent)
            ParentWatch.exitOnClosedInput()
        }
        if pl_limit_memory(dataLimitBytes, addressSpaceLimitBytes) != 0 {
            emit("X cannot cap the jq helper's memory: \(String(cString: strerror(errno)))")
            exit(fatalStatus)
        }
        let filter: JQFilter
        do {
            filter = try JQFilter(args[0], onOutOfMemory: outOfMemory)
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

/// libjq calls this when an allocation fails (the cap above was reached); it would abort() next, so the helper
/// reports the cause on its protocol and exits at once. Only async-signal-safe calls: the heap is full.
let outOfMemory: @convention(c) (UnsafeMutableRawPointer?) -> Void = { _ in
    let text: StaticString = "X the program ran out of memory (the jq helper is capped at 512 MiB)\n"
    _ = write(1, text.utf8Start, text.utf8CodeUnitCount)
    _exit(HelperMain.fatalStatus)
}
