// session-bridge-jq PROGRAM: compiles a jq program once through libjq, then reads one JSON document per line on
// stdin and answers one line per input on stdout: "1" (the program's first output is neither false nor null),
// "0" (it is), or "E <message>" (a runtime error). A program that does not compile prints "E <message>" first and
// exits 7. The main `session-bridge` binary is fully static and cannot link libjq; it runs this helper, and only
// when a --filter is given (compiling any jq 1.6 program costs ~20 ms anyway).
#if canImport(Glibc)
import Glibc
#endif
import JQ

HelperMain.run()
