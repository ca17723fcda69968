// session-bridge-jq [--parent PID] PROGRAM: compiles a jq program once through libjq, then reads one JSON document
// per line on stdin and answers one line per input on stdout: "1" (the program's first output is neither false nor
// null), "0" (it is), "E <message>" (a runtime error), or "X <message>" (a fatal error such as running out of its
// memory cap; the helper exits after it). A program that does not compile prints "E <message>" first and exits 7.
// With --parent the helper dies with that process. The main `session-bridge` binary is fully static and cannot link
// libjq; it runs this helper, and only when a --filter is given (compiling any jq 1.6 program costs ~20 ms anyway).
#if canImport(Glibc)
import Glibc
#endif
import JQ

HelperMain.run()
