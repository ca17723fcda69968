#if canImport(Glibc)
import Glibc
#endif

/// What each program may write, by class: programs that only read, transparent wrappers (whose wrapped command is
/// analysed), shells and other interpreters (whose scripts are analysed or scanned), writers of named operands,
/// destinations, in-place editors, extractors and downloaders, and git. A program that is none of these is
/// "opaque": it may write whatever its arguments name, or anything in its working directory.
enum ProgramModels {
    typealias State = ShellAnalyzer.State
    typealias Stream = ShellAnalyzer.Stream

    /// Programs that never create, change or remove files (their redirections are checked separately). Writer
    /// flags of a few (sort -o, find -delete …) are handled by their own models below.
    static let readOnly: Set<String> = [
        "cat", "ls", "dir", "vdir", "grep", "egrep", "fgrep", "rg", "ag", "ack", "head", "tail", "less", "more", "most", "wc", "stat", "file",
        "du", "df", "diff", "cmp", "comm", "md5sum", "sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum", "b2sum", "cksum",
        "sum", "echo", "printf", "pwd", "true", "false", "test", "[", "date", "whoami", "id", "groups", "uname", "hostname", "nproc",
        "printenv", "which", "whereis", "type", "realpath", "readlink", "basename", "dirname", "column", "cut", "tr", "nl", "od",
        "hexdump", "strings", "tac", "rev", "fold", "fmt", "paste", "join", "expand", "unexpand", "seq", "yes", "sleep", "kill",
        "ps", "pgrep", "pidof", "top", "htop", "free", "uptime", "lsof", "ss", "netstat", "ping", "dig", "host", "nslookup", "ldd",
        "nm", "objdump", "readelf", "tput", "clear", "cal", "bc", "expr", "numfmt", "getent", "locale", "man", "info", "help",
        "history", "jobs", "wait", "shift", "unset", "exit", "return", "break", "continue", "getopts", "hash", "umask", "ulimit",
        "times", "compgen", "complete", "shopt", "jq", "gojq", "jless", "fx", "base64", "base32", "basenc", "zcat", "bzcat", "xzcat",
        "zless", "zgrep", "bzgrep", "xzgrep", "lscpu", "lsblk", "env-check", "arch", "tty", "logname", "users", "who", "w", "last",
        "dmesg", "vmstat", "iostat", "mpstat", "pstree", "watch-none", "let", "alias-none", "tree-none", "fc-list", "xdg-mime",
        "nvidia-smi", "lsusb", "lspci", "sensors", "bat", "batcat", "delta", "colordiff", "wdiff", "icdiff", "cloc", "tokei",
        "shellcheck", "hadolint", "jsonlint", "yamllint", "xmllint-none", "pinky", "stty", "getconf", "mountpoint", "findmnt",
        "namei", "lsattr", "getfacl", "getfattr", "printf-none", "locate", "plocate", "fd", "fdfind", "exa", "eza", "lsd", "fzf",
        "sleep-none", "killall", "pkill", "nice-none", "renice", "disown", "bg", "fg", "suspend", "logger", "nc", "ncat", "telnet",
        "traceroute", "mtr", "whois", "ip", "ifconfig", "route", "arp", "iwconfig", "true-none", ":",
    ]

    static let shells: Set<String> = ["sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh", "fish", "csh", "tcsh", "rbash"]

    /// Interpreters: the flags that take inline code.
    static let interpreters: [String: Set<String>] = [
        "python": ["-c"], "python2": ["-c"], "python3": ["-c"], "pypy": ["-c"], "pypy3": ["-c"],
        "node": ["-e", "--eval", "-p", "--print"], "nodejs": ["-e", "--eval", "-p", "--print"], "bun": ["-e", "--eval", "-p", "--print"],
        "deno": ["eval"], "perl": ["-e", "-E"], "ruby": ["-e"], "php": ["-r"], "lua": ["-e"], "luajit": ["-e"], "Rscript": ["-e"],
        "tclsh": [], "osascript": ["-e"], "pwsh": ["-c", "-Command", "-command"], "powershell": ["-c", "-Command"], "julia": ["-e"],
        "groovy": ["-e"], "scala": ["-e"], "elixir": ["-e"], "erl": ["-eval"], "guile": ["-c"], "racket": ["-e"], "sbcl": ["--eval"],
        "gawk": [], "awk": [], "mawk": [], "nawk": [], "busybox-awk": [], "jshell": [], "swift": ["-e"], "ts-node": ["-e"], "tsx": ["-e"],
        "emacs": ["--eval"], "vim": [], "nvim": [], "vi": [], "ex": [], "ed": [], "sqlite3": [],
    ]

    static func run(_ argv: [String], analyzer a: ShellAnalyzer, state: inout State, stdin: Stream) {
        guard let program = argv.first else { return }
        let args = Array(argv.dropFirst())
        if !Marker.isPlain(program) {
            // The program itself is not known (`$(which rm)`, `$CMD`): it may be any writer.
            opaque(program, args, a, state)
            return
        }
        let name = FileSystem.lastComponent(of: program)
        if name == "session-bridge" || name == "session-bridge-jq" {
            if let real = resolveProgram(program, a, state), a.isTrustedHelper(real) { return }
            scriptFile(program, language: "file", a, &state, positional: args, direct: true)
            opaque(name, args, a, state)
            return
        }
        if program.contains("/") && !readOnly.contains(name) && interpreters[name] == nil && !shells.contains(name) {
            // A program run by path: its text is scanned when it is a script.
            scriptFile(program, language: "file", a, &state, positional: args, direct: true)
        }
        func write(_ word: String, _ scope: ToolEffects.Scope = .node, follow: Bool = true) {
            a.record(.write(a.place(word, state, follow: follow), scope, by: name))
        }
        switch name {
        // Built-ins that change the shell.
        case "cd", "pushd", "chdir":
            let o = ProgramOptions(args, stopAtOperand: true)
            let target = o.operands.first ?? (name == "pushd" ? nil : (a.environment["HOME"] ?? a.home))
            guard let target else { return }
            let old = state.cwd
            if target == "-" {
                state.cwd = state.oldCwd ?? Marker.anyString
            } else if Marker.isPlain(target) {
                state.cwd = GuardPaths.collapse(GuardPaths.join(state.cwd, target))
            } else if target.first == Marker.underStart {
                state.cwd = target
            } else {
                state.cwd = Marker.anyString
            }
            state.oldCwd = old
        case "popd":
            state.cwd = state.oldCwd ?? Marker.anyString
        case "export", "declare", "typeset", "local", "readonly":
            for w in args where !w.hasPrefix("-") {
                guard let eq = w.firstIndex(of: "=") else { continue }
                state.variables[String(w[..<eq])] = [String(w[w.index(after: eq)...])]
            }
        case "set":
            if let dd = args.firstIndex(of: "--") { state.positional = Array(args[(dd + 1)...]) }
            else if let f = args.first, !f.hasPrefix("-") && !f.hasPrefix("+") { state.positional = args }
        case "read":
            let o = ProgramOptions(args, shortWithValue: "adinNptu")
            let value: String
            switch stdin {
            case .paths(let root): value = Marker.under(root)
            default: value = Marker.anyString
            }
            for n in o.operands { state.variables[n] = [value] }
            if o.operands.isEmpty { state.variables["REPLY"] = [value] }
            for arr in o.values("-a") { state.variables[arr] = [value] }
        case "mapfile", "readarray":
            let o = ProgramOptions(args, shortWithValue: "dnOsuC c")
            state.variables[o.operands.last ?? "MAPFILE"] = [Marker.anyString]
        case "printf":
            let o = ProgramOptions(args, shortWithValue: "v", stopAtOperand: true)
            for v in o.values("-v") { state.variables[v] = [Marker.anyString] }
        case "source", ".":
            guard let file = args.first else { return }
            if isStandardInput(file) { shellStdin(a, &state, stdin); return }
            scriptFile(file, language: "sh", a, &state, positional: Array(args.dropFirst()), direct: false)
        case "eval":
            a.runScript(args.joined(separator: " "), &state, positional: state.positional, stdin: stdin)
        case "trap":
            if let action = args.first, !action.hasPrefix("-") { a.runScript(action, &state, positional: state.positional, stdin: .none) }
        case "alias":
            for w in args { if let eq = w.firstIndex(of: "=") { a.runScript(String(w[w.index(after: eq)...]), &state, positional: nil, stdin: .none) } }
        case "exec":
            let o = ProgramOptions(args, shortWithValue: "a", stopAtOperand: true)
            if !o.operands.isEmpty { runWrapped(o.operands, a, &state, stdin) }
        case "command", "builtin":
            let o = ProgramOptions(args, stopAtOperand: true)
            if o.has("-v", "-V") { return }
            runWrapped(o.operands, a, &state, stdin)

        // Transparent wrappers.
        case "sudo", "doas", "run0":
            let o = ProgramOptions(args, shortWithValue: "ugCDhpTrtUR", longWithValue: ["--user", "--group", "--chdir", "--host", "--prompt"], stopAtOperand: true)
            var inner = state
            for d in o.values("-D", "--chdir") { inner.cwd = GuardPaths.join(state.cwd, d) }
            if o.has("-s", "-i", "--shell", "--login"), o.operands.isEmpty { shellStdin(a, &inner, stdin); return }
            if o.has("-s", "--shell") { a.runScript(o.operands.joined(separator: " "), &inner, positional: [], stdin: stdin); return }
            runWrapped(o.operands, a, &inner, stdin)
        case "env":
            var rest = args
            var inner = state
            while let w = rest.first {
                if w == "--" { rest.removeFirst(); break }
                if w == "-u" || w == "--unset" { rest.removeFirst(); if !rest.isEmpty { rest.removeFirst() }; continue }
                if w == "-C" || w == "--chdir" { rest.removeFirst(); if let d = rest.first { inner.cwd = GuardPaths.join(state.cwd, d); rest.removeFirst() }; continue }
                if w.hasPrefix("--chdir=") { inner.cwd = GuardPaths.join(state.cwd, String(w.dropFirst(8))); rest.removeFirst(); continue }
                if w == "-S" || w == "--split-string" || w.hasPrefix("-S") && w.count > 2 {
                    rest.removeFirst()
                    let text = w.count > 2 && w != "--split-string" ? String(w.dropFirst(2)) : (rest.isEmpty ? "" : rest.removeFirst())
                    a.runScript(text + " " + rest.joined(separator: " "), &inner, positional: [], stdin: stdin)
                    return
                }
                if w.hasPrefix("-") { rest.removeFirst(); continue }
                if let eq = w.firstIndex(of: "="), eq != w.startIndex {
                    inner.variables[String(w[..<eq])] = [String(w[w.index(after: eq)...])]
                    rest.removeFirst()
                    continue
                }
                break
            }
            runWrapped(rest, a, &inner, stdin)
        case "nice", "ionice", "chrt", "taskset", "nohup", "setsid", "stdbuf", "unbuffer", "chronic", "caffeinate", "time", "timeout",
             "cpulimit", "numactl", "prlimit", "systemd-run", "firejail", "proot", "fakeroot", "catchsegv", "eatmydata", "faketime", "torsocks", "proxychains", "proxychains4", "tsp", "sem", "with-lock-ex", "lckdo":
            var o = ProgramOptions(args, shortWithValue: name == "timeout" ? "sk" : (name == "time" ? "fo" : "nNcptgiuleoOm"),
                                   longWithValue: ["--signal", "--kill-after", "--adjustment", "--output", "--format"], stopAtOperand: true)
            for out in o.values("-o", "--output") where name == "time" { write(out) }
            if name == "timeout" || name == "chrt" || name == "taskset" || name == "faketime" { if !o.operands.isEmpty { o.operands.removeFirst() } }
            if name == "nohup" { write("nohup.out") }
            runWrapped(o.operands, a, &state, stdin)
        case "flock":
            let o = ProgramOptions(args, shortWithValue: "wEc", longWithValue: ["--timeout", "--conflict-exit-code", "--command"], stopAtOperand: true)
            if let lock = o.operands.first { write(lock) }
            for script in o.values("-c", "--command") { a.runScript(script, &state, positional: [], stdin: stdin) }
            if o.operands.count > 1 { runWrapped(Array(o.operands.dropFirst()), a, &state, stdin) }
        case "xargs":
            let o = ProgramOptions(args, shortWithValue: "aIiEeLlnPsd", longWithValue: ["--arg-file", "--replace", "--eof", "--max-lines", "--max-args", "--max-procs", "--max-chars", "--delimiter", "--process-slot-var"], stopAtOperand: true)
            let item: String
            // The items come from the argument file when one is given (a process substitution or a file is read
            // as `cat` would), else from standard input.
            let items = o.values("-a", "--arg-file").first.map { a.fileStream($0, state) } ?? stdin
            switch items {
            case .paths(let root): item = Marker.under(root)
            case .text(let t) where Marker.isPlain(t):
                let words = t.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init)
                if words.isEmpty { runWrapped(o.operands.isEmpty ? ["echo"] : o.operands.filter { !$0.contains("{}") }, a, &state, .none); return }
                item = words.count == 1 ? words[0] : Marker.anyString
                if words.count > 1 {
                    var command = o.operands.isEmpty ? ["echo"] : o.operands
                    let replace = o.values("-I", "-i", "--replace").first
                    for w in words.prefix(64) {
                        let inner = replace.map { r in command.map { $0.replacingOccurrences(of: r, with: w) } } ?? (command + [w])
                        runWrapped(inner, a, &state, .none)
                    }
                    command = []
                    return
                }
            default: item = Marker.anyString
            }
            var command = o.operands.isEmpty ? ["echo"] : o.operands
            if let r = o.values("-I", "-i", "--replace").first ?? (o.has("-i") ? "{}" : nil) {
                command = command.map { $0.replacingOccurrences(of: r, with: item) }
            } else {
                command.append(item)
            }
            runWrapped(command, a, &state, .none)
        case "watch":
            let o = ProgramOptions(args, shortWithValue: "nd", longWithValue: ["--interval", "--differences"], stopAtOperand: true)
            a.runScript(o.operands.joined(separator: " "), &state, positional: [], stdin: .none)
        case "strace", "ltrace":
            let o = ProgramOptions(args, shortWithValue: "oeEpPsSuabIX", stopAtOperand: true)
            for out in o.values("-o") { write(out) }
            runWrapped(o.operands, a, &state, stdin)
        case "busybox", "toybox":
            let o = ProgramOptions(args, stopAtOperand: true)
            runWrapped(o.operands, a, &state, stdin)
        case "su", "runuser":
            let o = ProgramOptions(args, shortWithValue: "cgGsuw", longWithValue: ["--command", "--group", "--shell", "--user"])
            for script in o.values("-c", "--command") { a.runScript(script, &state, positional: [], stdin: stdin) }
            if o.values("-c", "--command").isEmpty { shellStdin(a, &state, stdin) }
        case "ssh":
            // A remote command runs elsewhere; -E writes a local log.
            let o = ProgramOptions(args, shortWithValue: "BbcDEeFIiJLlmOoPpQRSWw", stopAtOperand: true)
            for log in o.values("-E") { write(log) }

        // Shells and interpreters.
        case _ where shells.contains(name):
            runShell(name, args, a, &state, stdin)
        case "apply_patch", "applypatch":
            let text: String?
            if let body = args.first { text = body } else if case .text(let t) = stdin { text = t } else { text = nil }
            guard let text, Marker.isPlain(text) else { write(".", .tree); return }
            for change in ApplyPatch.paths(in: text) {
                write(change.path, .node, follow: !change.removes)
            }

        // Writers of every operand.
        case "rm", "unlink", "rmdir", "shred", "srm", "trash", "trash-put", "gio-trash":
            let o = ProgramOptions(args, shortWithValue: name == "shred" ? "nsx" : "", longWithValue: ["--iterations", "--size", "--random-source"])
            let recursive = o.has("-r", "-R", "--recursive") || name == "trash" || name == "trash-put"
            for w in o.operands {
                write(w, recursive ? .tree : .node, follow: name == "shred")
                if Marker.isPlain(w) { a.removed.insert(GuardPaths.collapse(a.absolute(w, state))) }
            }
        case "touch":
            let o = ProgramOptions(args, shortWithValue: "dtr", longWithValue: ["--date", "--reference", "--time"])
            for w in o.operands { write(w, .node, follow: !o.has("-h", "--no-dereference")) }
        case "mkdir", "mkfifo", "mknod":
            let o = ProgramOptions(args, shortWithValue: "mZ", longWithValue: ["--mode", "--context"])
            for w in (name == "mknod" ? Array(o.operands.prefix(1)) : o.operands) { write(w) }
        case "truncate", "fallocate":
            let o = ProgramOptions(args, shortWithValue: "sorlL", longWithValue: ["--size", "--reference", "--offset", "--length"])
            for w in o.operands { write(w) }
        case "chmod", "chown", "chgrp", "setfacl", "chattr", "setfattr", "chcon", "restorecon", "utimes":
            let o = ProgramOptions(args, shortWithValue: name == "setfacl" ? "mMxX" : (name == "setfattr" ? "nvx" : ""),
                                   longWithValue: ["--modify", "--remove", "--set", "--name", "--value"])
            let recursive = o.has("-R", "--recursive")
            var operands = o.operands
            let usesReference = o.flags.contains { $0.name == "--reference" }
            if !usesReference && !["setfacl", "setfattr", "restorecon"].contains(name) && !operands.isEmpty {
                // chmod +x FILE: the mode is the first operand (it may look like an option: chmod -w FILE).
                operands.removeFirst()
            }
            if name == "chmod", let m = o.flags.first(where: { $0.name.count == 2 && "rwxXst".contains($0.name.last ?? " ") }), o.operands.count >= 1 {
                _ = m
                operands = o.operands
            }
            for w in operands { write(w, recursive ? .tree : .node, follow: !o.has("-h", "--no-dereference")) }
        case "tee", "sponge":
            let o = ProgramOptions(args, longWithValue: ["--output-error"])
            for w in o.operands { write(w) }
        case "dd":
            for w in args where w.hasPrefix("of=") { write(String(w.dropFirst(3))) }
        case "split", "csplit":
            let o = name == "csplit"
                ? ProgramOptions(args, shortWithValue: "bfn", longWithValue: ["--prefix", "--suffix-format", "--digits"])
                : ProgramOptions(args, shortWithValue: "abClnt", longWithValue: ["--prefix", "--suffix-length", "--bytes", "--lines", "--number", "--additional-suffix", "--filter", "--separator"])
            let prefix = name == "csplit" ? (o.values("-f", "--prefix").first ?? "xx") : (o.operands.count > 1 ? o.operands[1] : "x")
            write(prefix + "aa")
        case "sort":
            let o = ProgramOptions(args, shortWithValue: "koStT", longWithValue: ["--key", "--output", "--field-separator", "--buffer-size", "--temporary-directory", "--files0-from", "--batch-size", "--parallel", "--sort", "--compress-program", "--random-source"])
            for w in o.values("-o", "--output") { write(w) }
            for p in o.values("--compress-program") { runWrapped([p], a, &state, .unknown) }
        case "uniq":
            let o = ProgramOptions(args, shortWithValue: "fsw", longWithValue: ["--skip-fields", "--skip-chars", "--check-chars", "--group", "--all-repeated"])
            if o.operands.count >= 2 { write(o.operands[1]) }
        case "tree":
            let o = ProgramOptions(args, shortWithValue: "LPIoH", longWithValue: ["--filelimit", "--timefmt", "--charset", "--sort"])
            for w in o.values("-o") { write(w) }
        case "xxd":
            let o = ProgramOptions(args, shortWithValue: "cglnosC", longWithValue: [])
            if o.operands.count >= 2 { write(o.operands[1]) }
        case "cp", "install", "ln", "link", "rsync", "scp", "mv", "ginstall":
            copyLike(name, args, a, &state)
        case "find":
            find(args, a, &state)
        case "sed", "gsed":
            let o = ProgramOptions(args, shortWithValue: "efl", longWithValue: ["--expression", "--file", "--line-length"])
            var scripts = o.values("-e", "--expression")
            var files = o.operands
            if scripts.isEmpty && o.values("-f", "--file").isEmpty && !files.isEmpty { scripts.append(files.removeFirst()) }
            let inPlace = o.flags.contains { $0.name == "-i" || $0.name.hasPrefix("--in-place") }
                || args.contains { $0.hasPrefix("-") && !$0.hasPrefix("--") && $0.dropFirst().contains("i") && !$0.dropFirst().contains("e") && !$0.dropFirst().contains("f") }
            if inPlace { for f in files { write(f, .node, follow: o.has("--follow-symlinks")) } }
            for s in scripts {
                for target in sedWriteTargets(s) { write(target) }
                if sedExecutes(s) { a.record(.script(language: "sed", text: s, network: false, cwd: a.place(".", state, follow: true))) }
            }
        case "perl":
            interpreter(name, args, a, &state, stdin, inPlace: args.contains { $0.hasPrefix("-") && !$0.hasPrefix("--") && $0.contains("i") && !$0.hasPrefix("-e") && !$0.hasPrefix("-E") })
        case "awk", "gawk", "mawk", "nawk":
            let o = ProgramOptions(args, shortWithValue: "fvFiEl", longWithValue: ["--file", "--assign", "--field-separator", "--include", "--load", "--source"])
            var operands = o.operands
            var programs = o.values("--source")
            if o.values("-f", "--file", "-E").isEmpty && !operands.isEmpty && programs.isEmpty { programs.append(operands.removeFirst()) }
            for f in o.values("-f", "--file", "-E") { if case .text(let t) = a.fileStream(f, state) { programs.append(t) } }
            let inPlace = (o.values("-i", "--include") + o.values("-l", "--load")).contains { $0.hasPrefix("inplace") }
            if inPlace { for f in operands where !f.contains("=") { write(f) } }
            for p in programs where awkMayWrite(p) { a.record(.script(language: "awk", text: p, network: false, cwd: a.place(".", state, follow: true))) }
        case "yq":
            let o = ProgramOptions(args, shortWithValue: "IopPf", longWithValue: ["--indent", "--output-format", "--input-format", "--front-matter", "--expression"])
            if o.has("-i", "--inplace", "--in-place") {
                var files = o.operands
                if o.values("--expression").isEmpty, ["e", "eval", "ea", "eval-all"].contains(files.first ?? "") { files.removeFirst() }
                for f in files { write(f) }
            }
        case "jq", "gojq", "jaq":
            return
        case "tar", "bsdtar", "gtar":
            tar(args, a, &state)
        case "unzip":
            let o = ProgramOptions(args, shortWithValue: "dxI", longWithValue: [])
            if o.has("-l", "-t", "-v", "-Z", "-p", "-c", "-z", "-hh") { return }
            write(o.values("-d").first ?? ".", .tree)
        case "7z", "7za", "7zr", "7zz":
            let command = args.first ?? ""
            let o = ProgramOptions(Array(args.dropFirst()))
            let outDir = o.flags.first { $0.name == "-o" }.map { _ in "" } ?? nil
            _ = outDir
            let outputs = args.filter { $0.hasPrefix("-o") && $0.count > 2 }.map { String($0.dropFirst(2)) }
            switch command {
            case "x", "e": write(outputs.first ?? ".", .tree)
            case "a", "u", "d", "rn": if let archive = o.operands.first { write(archive) }
                if args.contains("-sdel") { for f in o.operands.dropFirst() { write(f, .tree) } }
            default: return
            }
        case "cpio":
            let o = ProgramOptions(args, shortWithValue: "DEFHIMORs", longWithValue: ["--directory", "--file", "--format", "--pattern-file"])
            if o.has("-i", "--extract") && !o.has("-t", "--list") { write(o.values("-D", "--directory").first ?? ".", .tree) }
            if o.has("-p", "--pass-through"), let dest = o.operands.first { write(dest, .tree) }
            for f in o.values("-F", "-O", "--file") where o.has("-o", "--create") { write(f) }
        case "pax":
            if args.contains("-r") { write(".", .tree) }
        case "ar":
            if let mode = args.first, mode.contains("x") { write(".", .tree) } else if args.count > 1 { write(args[1]) }
        case "jar":
            if let mode = args.first, mode.contains("x") { write(".", .tree) }
        case "unrar":
            if args.first == "x" || args.first == "e" { write(args.count > 2 ? args[args.count - 1] : ".", .tree) }
        case "gzip", "gunzip", "bzip2", "bunzip2", "xz", "unxz", "lzma", "unlzma", "zstd", "unzstd", "lz4", "unlz4", "brotli", "compress", "uncompress", "pigz", "unpigz", "pbzip2", "lzip", "lzop":
            let o = ProgramOptions(args, shortWithValue: name.hasPrefix("zstd") || name == "unzstd" ? "oDB" : "S", longWithValue: ["--suffix", "--output"])
            if o.has("-c", "--stdout", "--to-stdout", "-t", "--test", "-l", "--list") { return }
            for out in o.values("-o", "--output") { write(out) }
            let recursive = o.has("-r", "--recursive")
            for f in o.operands where f != "-" { write(f, recursive ? .tree : .node) }
        case "zip":
            let o = ProgramOptions(args, shortWithValue: "bnOtPxiZ", longWithValue: ["--out", "--exclude", "--include"])
            if let archive = o.operands.first { write(archive) }
            for out in o.values("-O", "--out") { write(out) }
            if o.has("-m", "--move") { for f in o.operands.dropFirst() { write(f, .tree) } }
        case "patch":
            patch(args, a, &state, stdin)
        case "git":
            GitModel.run(args, a, &state, stdin)
        case "curl":
            curl(args, a, &state)
        case "wget", "wget2":
            let o = ProgramOptions(args, shortWithValue: "OoaPeiBtTwQUlARDIX", longWithValue: ["--output-document", "--output-file", "--append-output", "--directory-prefix", "--execute", "--input-file", "--base", "--tries", "--timeout", "--wait", "--quota", "--user-agent", "--level", "--accept", "--reject", "--domains", "--include-directories", "--exclude-directories", "--post-data", "--header", "--user", "--password"])
            for f in o.values("-o", "--output-file", "-a", "--append-output") { write(f) }
            if o.has("--spider") { return }
            let documents = o.values("-O", "--output-document")
            for f in documents where f != "-" { write(f) }
            if documents.isEmpty {
                let prefix = o.values("-P", "--directory-prefix").first ?? "."
                write(prefix, o.has("-r", "--recursive", "-m", "--mirror", "-x", "--force-directories", "-p", "--page-requisites") || prefix != "." ? .tree : .node)
                if prefix == "." { write(Marker.opaqueString) }
            }
        case "ed", "red", "ex", "vim", "vi", "nvim", "view", "vimdiff", "nano", "pico", "micro", "joe", "emacs", "emacsclient", "kak", "mcedit", "ne", "jed", "helix", "hx", "code", "subl", "gedit", "kate":
            // Editors (interactive or scripted with -c, -es, +cmd, --eval, a command stream on stdin) write their files.
            let o = ProgramOptions(args, shortWithValue: name.contains("vi") || name == "ex" || name == "view" ? "cSuUiTwWo" : "", longWithValue: ["--cmd", "--eval", "-l", "--load"])
            for f in o.operands where !f.hasPrefix("+") { write(f) }
            for code in o.values("--eval") { a.record(.script(language: "elisp", text: code, network: false, cwd: a.place(".", state, follow: true))) }
            for cmd in o.values("-c", "--cmd") + o.operands.filter({ $0.hasPrefix("+") }) {
                for target in vimWriteTargets(cmd) { write(target) }
                if cmd.contains("!") || cmd.contains("call ") || cmd.contains("lua") || cmd.contains("py") { a.record(.script(language: "vim", text: cmd, network: false, cwd: a.place(".", state, follow: true))) }
            }
            if case .text(let t) = stdin, name == "ed" || name == "ex" || name == "red" || o.has("-s", "-e", "-E") {
                for target in vimWriteTargets(t) { write(target) }
            }
        case "sqlite3", "sqlite", "duckdb":
            let o = ProgramOptions(args, shortWithValue: "", longWithValue: ["-cmd", "-init", "-separator", "-nullvalue", "-newline"])
            let readOnlyMode = o.has("-readonly", "--readonly") || args.contains("-readonly")
            var operands = o.operands
            if let db = operands.first, !readOnlyMode { write(db) }
            if !operands.isEmpty { operands.removeFirst() }
            var sql = operands + o.values("-cmd")
            if case .text(let t) = stdin { sql.append(t) }
            for s in sql { a.record(.script(language: "sql", text: s, network: false, cwd: a.place(".", state, follow: true))) }
        case _ where interpreters[name] != nil || name.hasPrefix("python") || name.hasPrefix("pypy") || name.hasPrefix("ruby") || name.hasPrefix("php") || name.hasPrefix("lua") || name.hasPrefix("perl5"):
            interpreter(name, args, a, &state, stdin, inPlace: false)
        case "make", "gmake":
            let o = ProgramOptions(args, shortWithValue: "CfIjlOoWE", longWithValue: ["--directory", "--file", "--makefile", "--include-dir", "--jobs", "--load-average", "--old-file", "--what-if", "--eval"])
            var inner = state
            for d in o.values("-C", "--directory") { inner.cwd = GuardPaths.join(state.cwd, d) }
            opaque(name, o.operands + o.values("-f", "--file", "--makefile"), a, inner)
            // The recipes are shell scripts: those of the targets asked for (and what they depend on) in the
            // makefile make reads are checked like any script file. A dry run runs none.
            if o.has("-n", "--dry-run", "--just-print", "--recon", "-q", "--question") { return }
            let makefiles = o.values("-f", "--file", "--makefile")
            let targets = o.operands.filter { !$0.contains("=") }
            for file in makefiles.isEmpty ? ["GNUmakefile", "makefile", "Makefile"] : makefiles {
                if buildFile(file, a, inner, recipes: { makeRecipes($0, targets: targets) }) { if makefiles.isEmpty { break } }
            }
        case "npm", "pnpm", "yarn":
            opaque(name, args, a, state)
            // `npm run X`, `npm test`, `yarn X`, `npm install` run scripts of package.json: checked like script files.
            let o = ProgramOptions(args, shortWithValue: "C", longWithValue: ["--prefix", "--dir", "--cwd", "-w", "--workspace"])
            var inner = state
            for d in o.values("--prefix", "--dir", "--cwd", "-C") { inner.cwd = GuardPaths.join(state.cwd, d) }
            let ops = o.operands
            let lifecycle = ["install", "i", "ci", "add", "rebuild", "pack", "publish"]
            var names: [String] = []
            if let first = ops.first {
                if ["run", "run-script", "rum", "urn"].contains(first) { names = ops.count > 1 ? [ops[1]] : [] }
                else if ["test", "t", "tst", "start", "stop", "restart"].contains(first) { names = [first.hasPrefix("t") ? "test" : first] }
                else if lifecycle.contains(first) { names = ["preinstall", "install", "postinstall", "prepare", "prepack", "postpack", "prepublish", "prepublishOnly"] }
                else if name == "yarn" || name == "pnpm" { names = [first] }
            } else if name == "yarn" || name == "pnpm" {
                names = ["preinstall", "install", "postinstall", "prepare"]
            }
            if !names.isEmpty {
                _ = buildFile("package.json", a, inner) { text in packageScripts(text, names: names) }
            }
        default:
            if readOnly.contains(name) { return }
            opaque(name, args, a, state)
        }
    }

    // MARK: Helpers

    static func runWrapped(_ argv: [String], _ a: ShellAnalyzer, _ state: inout State, _ stdin: Stream) {
        guard !argv.isEmpty else { return }
        a.runProgram(argv, &state, stdin: stdin)
    }

    /// A program whose writes are not modelled: it may write what its arguments name and anything in its cwd.
    static func opaque(_ program: String, _ args: [String], _ a: ShellAnalyzer, _ state: State) {
        var places: [ToolEffects.Place] = []
        for arg in args.prefix(256) {
            var candidates = [arg]
            if arg.hasPrefix("-"), let eq = arg.firstIndex(of: "=") { candidates = [String(arg[arg.index(after: eq)...])] }
            else if arg.hasPrefix("-") && arg.count > 2 && !arg.hasPrefix("--") && arg.contains("/") { candidates = [String(arg.dropFirst(2))] }
            for c in candidates where !c.isEmpty {
                if c.contains("://") && Marker.isPlain(c) { continue }
                places.append(a.place(c, state, follow: true))
            }
        }
        a.record(.opaque(program: program, cwd: a.place(".", state, follow: true), arguments: places))
        // An argument that is itself a command (watchexec "rm …", ssh host 'cmd', a renamed shell's -c): the
        // program may run it.
        for arg in args.prefix(64) where Marker.isPlain(arg) && (arg.contains(" ") || arg.contains(">")) {
            guard case .sequence(let items) = ShellParser.parse(arg), let first = items.first else { continue }
            var node = first
            while case .sequence(let inner) = node, let f = inner.first { node = f }
            if case .pipeline(let stages) = node, let f = stages.first { node = f }
            guard case .simple(let command) = node else { continue }
            let head = command.words.first?.literalText.map { FileSystem.lastComponent(of: $0) } ?? ""
            if codeStarters.contains(head) || shells.contains(head) || interpreters[head] != nil || command.redirects.contains(where: \.writes) {
                var inner = state
                a.runScript(arg, &inner, positional: nil, stdin: .none)
            }
        }
    }

    /// Programs whose name at the start of an argument marks it as a command line.
    static let codeStarters: Set<String> = ["rm", "mv", "cp", "ln", "touch", "mkdir", "rmdir", "truncate", "tee", "dd", "chmod", "chown",
                                            "sed", "find", "xargs", "tar", "unzip", "rsync", "install", "shred", "unlink", "git", "env",
                                            "sudo", "exec", "eval", "cd", "echo", "printf", "cat", "patch", "sort", "curl", "wget", "apply_patch"]

    /// The real path of a program as the shell would find it (PATH lookup for a bare name).
    static func resolveProgram(_ program: String, _ a: ShellAnalyzer, _ state: State) -> String? {
        if program.contains("/") {
            return FileSystem.realPath(a.absolute(program, state))
        }
        guard let path = a.environment["PATH"] else { return nil }
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = String(dir) + "/" + program
            if access(candidate, X_OK) == 0, let real = FileSystem.realPath(GuardPaths.join(state.cwd, candidate)) { return real }
        }
        return nil
    }

    /// A script run from a file: written earlier in this call (analysed in full when it is a shell script), or
    /// read from disk and scanned.
    static func scriptFile(_ path: String, language: String, _ a: ShellAnalyzer, _ state: inout State, positional: [String], direct: Bool) {
        guard Marker.isPlain(path) else {
            a.record(.script(language: language, text: nil, network: false, cwd: a.place(".", state, follow: true)))
            return
        }
        if let printed = a.processOutputs[path] {
            // `bash <(…)`, `. <(…)`: the script is what the command inside prints.
            switch printed {
            case .none: return
            case .text(let t): runScriptText(t, path: path, language: language, a, &state, positional: positional)
            case .network: a.record(.script(language: language, text: nil, network: true, cwd: a.place(".", state, follow: true)))
            case .paths, .unknown: a.record(.script(language: language, text: nil, network: false, cwd: a.place(".", state, follow: true)))
            }
            return
        }
        var abs = GuardPaths.collapse(a.absolute(path, state))
        if direct && !path.contains("/") { return }
        if let written = a.writtenFiles[abs] {
            guard let text = written else {
                a.record(.script(language: language, text: nil, network: false, cwd: a.place(".", state, follow: true)))
                return
            }
            if text.hasPrefix("\u{7F}ELF") || text.contains("\u{0}") { return }
            runScriptText(text, path: path, language: language, a, &state, positional: positional)
            return
        }
        abs = GuardPaths.resolve(abs, links: a.links)
        guard let bytes = GuardPaths.readPrefix(abs, limit: 256 << 10), !bytes.isEmpty else { return }
        if bytes.count >= 4 && bytes[0] == 0x7F && bytes[1] == 0x45 && bytes[2] == 0x4C && bytes[3] == 0x46 { return }   // ELF
        runScriptText(String(decoding: bytes, as: UTF8.self), path: path, language: language, a, &state, positional: positional,
                      fromDisk: true)
    }

    /// What a script that was already on disk (a project's build or test script, not text this call wrote) counts
    /// for: its writes to places it names (a guarded folder, a path under one), never the places only its run time
    /// knows. Judging those as "anywhere" would deny every project script that writes to a computed path; such a
    /// script is judged like any other program, by what it names. Text that this call wrote stays fully strict.
    static func diskScriptEffect(_ e: ToolEffects.Effect, cwd: ToolEffects.Place, _ a: ShellAnalyzer) -> ToolEffects.Effect? {
        func known(_ p: ToolEffects.Place) -> ToolEffects.Place {
            if case .anywhere = p { return cwd }
            return p
        }
        switch e {
        case .write(let place, _, _):
            if case .anywhere = place { return nil }
            return e
        case .opaque(let program, let where_, let arguments):
            return .opaque(program: program, cwd: known(where_), arguments: arguments.filter { if case .anywhere = $0 { return false }; return true })
        case .script(let language, let text, let network, let where_):
            guard let text, mentionsGuardedName(text, a) else { return nil }
            return .script(language: language, text: text, network: network, cwd: known(where_))
        }
    }

    /// Whether script text names a guarded folder (by its usual names or by a guarded root's path).
    static func mentionsGuardedName(_ text: String, _ a: ShellAnalyzer) -> Bool {
        if text.contains(".talks") || text.contains("session-bridge") || text.contains("session_bridge") || text.contains("SESSION_BRIDGE") {
            return true
        }
        return (a.guardedRoots?() ?? []).contains { text.contains($0) }
    }

    /// A script's text: shell scripts (by interpreter, `source`, or a `sh`/`bash` first line) are analysed like the
    /// command itself, in a separate budget (a long script that exhausts it is scanned instead); others are scanned.
    static func runScriptText(_ text: String, path: String, language: String, _ a: ShellAnalyzer, _ state: inout State, positional: [String],
                              fromDisk: Bool = false) {
        let firstLine = text.prefix { $0 != "\n" }
        let shellLine = firstLine.hasPrefix("#!") && shells.contains { firstLine.hasSuffix("/" + $0) || firstLine.hasSuffix(" " + $0) || firstLine.contains("/" + $0 + " ") }
        let isShell = language == "sh" || (language == "file" && (shellLine || !firstLine.hasPrefix("#!")))
        let cwd = a.place(".", state, follow: true)
        guard isShell else {
            let effect = ToolEffects.Effect.script(language: language == "file" ? "script" : language, text: text, network: false, cwd: cwd)
            if !fromDisk { a.record(effect) } else if let e = diskScriptEffect(effect, cwd: cwd, a) { a.record(e) }
            return
        }
        let sub = ShellAnalyzer(environment: a.environment, home: a.home, isTrustedHelper: a.isTrustedHelper)
        sub.guardedRoots = a.guardedRoots
        sub.links = a.links
        sub.writtenFiles = a.writtenFiles
        var inner = state
        inner.variables["0"] = [path]
        sub.runScript(text, &inner, positional: positional, stdin: .none)
        if sub.exhausted {
            let effect = ToolEffects.Effect.script(language: "sh", text: text, network: false, cwd: cwd)
            if !fromDisk { a.record(effect) } else if let e = diskScriptEffect(effect, cwd: cwd, a) { a.record(e) }
        } else if fromDisk {
            for e in sub.effects { if let kept = diskScriptEffect(e, cwd: cwd, a) { a.record(kept) } }
        } else {
            for e in sub.effects { a.record(e) }
            if language == "sh" && path.isEmpty { state = inner }
        }
    }

    static func runShell(_ name: String, _ args: [String], _ a: ShellAnalyzer, _ state: inout State, _ stdin: Stream) {
        // sh [-options] [-c SCRIPT [NAME ARGS…]] | [FILE ARGS…] | (stdin)
        var k = 0
        var command: String?
        var readsStdin = false
        while k < args.count {
            let w = args[k]
            if w == "--" { k += 1; break }
            if w == "-o" || w == "+o" || w == "-O" || w == "+O" || w == "--rcfile" || w == "--init-file" { k += 2; continue }
            if w.hasPrefix("--") { k += 1; continue }
            if (w.hasPrefix("-") || w.hasPrefix("+")) && w.count > 1 {
                if w.dropFirst().contains("c") { command = ""; }
                if w.dropFirst().contains("s") { readsStdin = true }
                k += 1
                continue
            }
            break
        }
        if command != nil {
            guard k < args.count else { return }
            let script = args[k]
            let positional = Array(args.dropFirst(k + 2))
            var inner = state
            if k + 1 < args.count { inner.variables["0"] = [args[k + 1]] }
            a.runScript(script, &inner, positional: positional, stdin: stdin)
            return
        }
        if k < args.count && !readsStdin && !isStandardInput(args[k]) {
            scriptFile(args[k], language: "sh", a, &state, positional: Array(args.dropFirst(k + 1)), direct: false)
            return
        }
        shellStdin(a, &state, stdin)
    }

    /// A shell reading its script on standard input.
    static func shellStdin(_ a: ShellAnalyzer, _ state: inout State, _ stdin: Stream) {
        switch stdin {
        case .none: return
        case .text(let t): a.runScript(t, &state, positional: [], stdin: .none)
        case .network: a.record(.script(language: "sh", text: nil, network: true, cwd: a.place(".", state, follow: true)))
        case .paths, .unknown: a.record(.script(language: "sh", text: nil, network: false, cwd: a.place(".", state, follow: true)))
        }
    }

    static func interpreter(_ name: String, _ args: [String], _ a: ShellAnalyzer, _ state: inout State, _ stdin: Stream, inPlace: Bool) {
        let base = name.hasPrefix("python") ? "python3" : name
        let flags = interpreters[base] ?? interpreters[name] ?? ["-e", "-c"]
        let cwd = a.place(".", state, follow: true)
        var code: [String] = []
        var operands: [String] = []
        var k = 0
        var moduleMode = false
        var stdinArguments = false
        let valued: Set<String> = ["-W", "-X", "-m", "-I", "-M", "-r", "--require", "--import", "-x", "--loader", "--experimental-loader", "-0", "-l", "-C"]
        while k < args.count {
            let w = args[k]
            k += 1
            if flags.contains(w) || (w.hasPrefix("--") && flags.contains(String(w.split(separator: "=").first ?? ""))) {
                if let eq = w.firstIndex(of: "="), w.hasPrefix("--") { code.append(String(w[w.index(after: eq)...])) }
                else if k < args.count { code.append(args[k]); k += 1 }
                // Everything after -c CODE is the script's arguments.
                operands += args[k...]
                break
            }
            if w.hasPrefix("-") && !w.hasPrefix("--") && w.count > 2, w.dropFirst().allSatisfy({ $0.isLetter }),
               let f = flags.first(where: { $0.count == 2 && w.last == $0.last }) {
                // Bundled short flags ending with the code flag: perl -pie CODE, python -Bc CODE.
                _ = f
                if k < args.count { code.append(args[k]); k += 1 }
                operands += args[k...]
                break
            }
            if w.hasPrefix("-") && !w.hasPrefix("--") && w.count > 2, let f = flags.first(where: { $0.count == 2 && w.hasPrefix($0) }) {
                code.append(String(w.dropFirst(f.count)))
                operands += args[k...]
                break
            }
            if w == "-m" { moduleMode = true; operands += args[k...]; break }
            if valued.contains(w) { k += 1; continue }
            if w == "-" { operands += args[k...]; stdinArguments = true; break }
            if w.hasPrefix("-") { continue }
            operands.append(w)
            operands += args[k...]
            break
        }
        if inPlace { for f in operands { a.record(.write(a.place(f, state, follow: true), .node, by: name)) } }
        if !code.isEmpty {
            for c in code { a.record(.script(language: name, text: c, network: false, cwd: cwd)) }
            // The code's own arguments: code that can write may write what they name.
            if code.contains(where: { ScriptScan.mayWrite($0) }) && !inPlace { opaque(name, operands, a, state) }
            return
        }
        if stdinArguments, case .text(let t) = stdin {
            a.record(.script(language: name, text: t, network: false, cwd: cwd))
            if ScriptScan.mayWrite(t) { opaque(name, operands, a, state) }
            return
        }
        if moduleMode {
            pythonModule(name, operands, a, &state)
            return
        }
        if let script = operands.first, isStandardInput(script) {
            switch stdin {
            case .none: break
            case .text(let t): a.record(.script(language: name, text: t, network: false, cwd: cwd))
            case .network: a.record(.script(language: name, text: nil, network: true, cwd: cwd))
            case .paths, .unknown: a.record(.script(language: name, text: nil, network: false, cwd: cwd))
            }
            opaque(name, Array(operands.dropFirst()), a, state)
            return
        }
        if let script = operands.first, base != "deno" || script == "run" {
            let file = base == "deno" || name == "bun" && script == "run" ? (operands.dropFirst().first ?? "") : script
            if !file.isEmpty { scriptFile(file, language: name, a, &state, positional: [], direct: false) }
            opaque(name, Array(operands.dropFirst()), a, state)
            return
        }
        // No script operand: the code comes on standard input.
        switch stdin {
        case .none: return
        case .text(let t): a.record(.script(language: name, text: t, network: false, cwd: cwd))
        case .network: a.record(.script(language: name, text: nil, network: true, cwd: cwd))
        case .paths, .unknown: a.record(.script(language: name, text: nil, network: false, cwd: cwd))
        }
    }

    /// Paths through which a program reads its own standard input.
    static func isStandardInput(_ path: String) -> Bool {
        path == "/dev/stdin" || path == "/dev/fd/0" || path == "/proc/self/fd/0"
    }

    /// A build file (makefile, package.json) that a build tool reads, by the scripts it runs: written earlier in
    /// this call (checked in full) or on disk (checked for the places it names, as a script file on disk is).
    /// False when the file is not there.
    static func buildFile(_ file: String, _ a: ShellAnalyzer, _ state: State, recipes: (String) -> String) -> Bool {
        guard Marker.isPlain(file) else {
            a.record(.script(language: "sh", text: nil, network: false, cwd: a.place(".", state, follow: true)))
            return true
        }
        let abs = GuardPaths.collapse(a.absolute(file, state))
        var inner = state
        if let written = a.writtenFiles[abs] {
            guard let text = written else {
                a.record(.script(language: "sh", text: nil, network: false, cwd: a.place(".", state, follow: true)))
                return true
            }
            runScriptText(recipes(text), path: file, language: "sh", a, &inner, positional: [])
            return true
        }
        guard let bytes = GuardPaths.readPrefix(GuardPaths.resolve(abs, links: a.links), limit: 256 << 10) else { return false }
        runScriptText(recipes(String(decoding: bytes, as: UTF8.self)), path: file, language: "sh", a, &inner, positional: [], fromDisk: true)
        return true
    }

    /// The recipe lines (without their `@`, `-`, `+` prefixes), one command each, that `make TARGETS` may run: those
    /// of the targets (the first one when none is named) and of what they depend on. A target no explicit rule
    /// names (a pattern rule's) may run any recipe.
    static func makeRecipes(_ text: String, targets: [String]) -> String {
        var rules: [String: (deps: [String], recipe: [String])] = [:]
        var first: String?
        var current: [String] = []
        func recipeLine(_ line: Substring) -> String {
            var l = line
            while let c = l.first, c == "@" || c == "-" || c == "+" || c == " " || c == "\t" { l = l.dropFirst() }
            if l.last == "\r" { l = l.dropLast() }
            return String(l)
        }
        var all: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.first == "\t" {
                let r = recipeLine(line.dropFirst())
                all.append(r)
                for t in current { rules[t, default: ([], [])].recipe.append(r) }
                continue
            }
            current = []
            guard !line.hasPrefix("#"), let colon = line.firstIndex(of: ":"), !line[..<colon].contains("=") else { continue }
            let after = line[line.index(after: colon)...]
            if after.first == "=" || after.hasPrefix(":=") || after.hasPrefix("::=") { continue }
            let names = line[..<colon].split(separator: " ").map(String.init)
            var deps = after.drop { $0 == ":" }
            var inline: String?
            if let semi = deps.firstIndex(of: ";") { inline = recipeLine(deps[deps.index(after: semi)...]); deps = deps[..<semi] }
            current = names
            for t in names {
                rules[t, default: ([], [])].deps += deps.split(separator: " ").map(String.init)
                if let inline { rules[t, default: ([], [])].recipe.append(inline); all.append(inline) }
                if first == nil && !t.hasPrefix(".") && !t.contains("%") { first = t }
            }
        }
        var pending = targets.isEmpty ? (first.map { [$0] } ?? []) : targets
        var seen: Set<String> = []
        var out: [String] = []
        while let t = pending.popLast(), seen.count < 256 {
            guard seen.insert(t).inserted else { continue }
            guard let rule = rules[t] else {
                if targets.contains(t) || !Marker.isPlain(t) { return all.joined(separator: "\n") }
                continue
            }
            out += rule.recipe
            pending += rule.deps
        }
        return out.joined(separator: "\n")
    }

    private struct PackageManifest: Decodable { var scripts: [String: String]? }

    /// The named scripts of a package.json (with their pre and post hooks), as one shell script.
    static func packageScripts(_ text: String, names: [String]) -> String {
        guard let scripts = JSONCoding.decode(PackageManifest.self, from: Array(text.utf8))?.scripts else {
            // Not JSON that npm would read either; any text it holds still counts.
            return text.contains("\"scripts\"") ? Marker.anyString : ""
        }
        var out: [String] = []
        for n in names { for key in ["pre" + n, n, "post" + n] { if let s = scripts[key] { out.append(s) } } }
        return out.joined(separator: "\n")
    }

    /// `python -m MODULE …`: the standard library's command-line modules by what they write; any other module is
    /// an unknown program given the remaining arguments.
    static func pythonModule(_ name: String, _ operands: [String], _ a: ShellAnalyzer, _ state: inout State) {
        guard let module = operands.first else { return }
        let rest = Array(operands.dropFirst())
        func write(_ w: String, _ scope: ToolEffects.Scope) { a.record(.write(a.place(w, state, follow: true), scope, by: "\(name) -m \(module)")) }
        switch module {
        case "json.tool":
            let o = ProgramOptions(rest, longWithValue: ["--indent"])
            if o.operands.count >= 2 { write(o.operands[1], .node) }
        case "zipfile", "tarfile":
            let o = ProgramOptions(rest, shortWithValue: "lecte", longWithValue: ["--list", "--extract", "--create", "--test", "--filter"])
            // `-e ARCHIVE [DIR]` extracts into DIR (the working folder by default); `-c ARCHIVE FILES…` creates one.
            if !o.values("-e", "--extract").isEmpty { write(o.operands.first ?? ".", .tree) }
            for archive in o.values("-c", "--create") { write(archive, .node) }
        case "base64", "pydoc", "this", "timeit", "dis", "tokenize", "ast", "platform", "sysconfig", "site", "calendar", "uuid",
             "pprint", "http.server", "webbrowser", "quopri", "filecmp", "pickletools", "symtable", "tabnanny", "inspect", "locale",
             "mimetypes", "shlex", "pyclbr":
            // They print (or serve) and write no file.
            return
        default:
            opaque(name, operands, a, state)
        }
    }

    // MARK: Copy, move, link

    static func copyLike(_ name: String, _ args: [String], _ a: ShellAnalyzer, _ state: inout State) {
        let o = ProgramOptions(args, shortWithValue: name == "install" ? "gmoStZ" : (name == "rsync" ? "efTB" : (name == "scp" ? "cFiJlPoSD" : "St")),
                               longWithValue: ["--target-directory", "--suffix", "--mode", "--owner", "--group", "--exclude", "--include", "--filter", "--rsh", "--backup-dir", "--temp-dir", "--partial-dir", "--compare-dest", "--copy-dest", "--link-dest", "--files-from", "--exclude-from", "--include-from", "--chown", "--chmod", "--log-file", "--write-batch", "--only-write-batch", "--read-batch", "--password-file"])
        func place(_ w: String, follow: Bool = true) -> ToolEffects.Place { a.place(w, state, follow: follow) }
        func write(_ w: String, _ scope: ToolEffects.Scope, follow: Bool = true) { a.record(.write(place(w, follow: follow), scope, by: name)) }
        var operands = o.operands.filter { !(name == "rsync" || name == "scp") || !isRemote($0) }
        if name == "rsync" || name == "scp" { if o.operands.last.map(isRemote) == true { operands = [] } }
        let recursive = o.has("-r", "-R", "-a", "--recursive", "--archive", "-d")
        if name == "install" && o.has("-d", "--directory") {
            for d in operands { write(d, .node) }
            return
        }
        if name == "rsync" && o.has("-n", "--dry-run", "--list-only") { return }
        if name == "rsync" {
            for f in o.values("--log-file", "--write-batch", "--only-write-batch") { write(f, .node) }
            for d in o.values("--backup-dir", "--temp-dir", "--partial-dir") { write(d, .tree) }
        }
        var targetDir = o.values("-t", "--target-directory").first
        if name == "ln" && operands.count == 1 && targetDir == nil { targetDir = "." }
        let destination: String
        var sources: [String]
        if let t = targetDir {
            destination = t
            sources = operands
        } else {
            guard operands.count >= 2, let last = operands.last else {
                if name == "rsync", operands.count == 1 { return }   // rsync SRC lists
                return
            }
            destination = last
            sources = Array(operands.dropLast())
        }
        if name == "mv" || (name == "rsync" && o.hasPrefix("--remove-source")) {
            // Moving a path away removes it (and everything under it) where it was.
            for s in sources { write(s, .tree, follow: s.hasSuffix("/")) }
        }
        if name == "rsync" && o.hasPrefix("--delete") {
            write(destination, .tree)
        }
        let noTarget = o.has("-T", "--no-target-directory")
        let destPlace = place(destination)
        var destIsDir = targetDir != nil || destination.hasSuffix("/") || (sources.count > 1 && !noTarget)
        if !destIsDir, !noTarget, case .exact(let d) = destPlace, FileSystem.isDirectory(d) { destIsDir = true }
        let destAbs = GuardPaths.collapse(a.absolute(destination, state))
        if a.removed.contains(destAbs) && targetDir == nil && !destination.hasSuffix("/") && sources.count == 1 { destIsDir = false }
        if name == "ln" && o.has("-n", "--no-dereference") && (GuardPaths.isSymlink(destAbs) || a.links[destAbs] != nil) { destIsDir = false }
        for s in sources {
            let target: String
            if destIsDir {
                let base = FileSystem.lastComponent(of: s.hasSuffix("/") && s.count > 1 ? String(s.dropLast()) : s)
                let dir = destination.hasSuffix("/") && destination.count > 1 ? String(destination.dropLast()) : destination
                target = name == "rsync" && s.hasSuffix("/") ? destination : GuardPaths.join(dir, base.isEmpty ? "." : base)
            } else {
                target = destination
            }
            let copiesTree = recursive || name == "mv" || name == "rsync"
            let gone = a.removed.contains(GuardPaths.collapse(a.absolute(target, state)))
            // A folder copied (or one that may be a folder) brings entries the guard cannot list: anything beneath.
            let bringsEntries = copiesTree && name != "ln" && name != "link" && !isKnownNonFolder(s, a, state)
            write(target, bringsEntries ? .contents : .node, follow: !(name == "ln" && o.has("-n", "--no-dereference", "-T")) && !gone)
            if copiesTree, Marker.isPlain(s), case .exact(let t) = place(target) {
                // A copy of a folder into an ancestor of a guarded folder writes inside it when the source holds the
                // same relative path.
                let sourceRoot = GuardPaths.resolve(a.absolute(s, state), links: a.links)
                var inside = (a.guardedRoots?() ?? []).filter { $0 != t && GuardPaths.isInside($0, t) }
                    .map { String($0.dropFirst(t == "/" ? 1 : t.count + 1)) }
                if FileSystem.isDirectory(t + "/.talks") { inside.append(".talks") }
                for rel in inside where FileSystem.exists(sourceRoot + "/" + rel) {
                    a.record(.write(.exact(GuardPaths.join(t, rel)), .tree, by: name))
                }
            }
            // Links (and copies of links) made here are followed by later commands of the same call.
            let absTarget = GuardPaths.collapse(a.absolute(target, state))
            if name == "ln" || name == "link" {
                let symbolic = o.has("-s", "--symbolic") && name == "ln"
                if Marker.isPlain(s) {
                    let linkTarget = symbolic ? (s.hasPrefix("/") ? s : GuardPaths.join(FileSystem.parentDirectory(of: absTarget), s)) : a.absolute(s, state)
                    a.links[absTarget] = GuardPaths.resolve(GuardPaths.collapse(linkTarget), links: a.links)
                } else {
                    a.links[absTarget] = Marker.anyString
                }
            } else if Marker.isPlain(s) {
                let absSource = GuardPaths.collapse(a.absolute(s, state))
                if let virtual = a.links[absSource] { a.links[absTarget] = virtual }
                else if GuardPaths.isSymlink(absSource) && (name == "mv" || o.has("-P", "-d", "-a", "--no-dereference", "-R", "-r", "--archive", "--links", "-l", "-s")) {
                    a.links[absTarget] = GuardPaths.resolve(absSource, links: a.links)
                } else if name == "cp" && o.has("-l", "-s", "--link", "--symbolic-link") {
                    a.links[absTarget] = GuardPaths.resolve(absSource, links: a.links)
                }
                if let text = a.writtenFiles[absSource] { a.writtenFiles[absTarget] = text }
                else { a.writtenFiles[absTarget] = .some(GuardPaths.readSmallFile(GuardPaths.resolve(absSource, links: a.links))) }
            } else {
                a.writtenFiles[absTarget] = .some(nil)
            }
        }
    }

    /// Whether a copy's source is known not to be a folder: a plain word naming an existing node that is not a
    /// directory (through links) and that this command has not replaced.
    static func isKnownNonFolder(_ source: String, _ a: ShellAnalyzer, _ state: State) -> Bool {
        guard Marker.isPlain(source), !source.hasSuffix("/"), !source.hasSuffix("/.") else { return false }
        let absolute = GuardPaths.collapse(a.absolute(source, state))
        if a.links[absolute] != nil || a.writtenFiles[absolute] != nil { return false }
        let real = GuardPaths.resolve(absolute, links: a.links)
        guard let kind = FileSystem.kind(real) else { return false }
        return kind != .directory
    }

    static func isRemote(_ w: String) -> Bool {
        guard let colon = w.firstIndex(of: ":") else { return false }
        guard let slash = w.firstIndex(of: "/") else { return true }
        return colon < slash
    }

    // MARK: find

    static func find(_ args: [String], _ a: ShellAnalyzer, _ state: inout State) {
        var k = 0
        while k < args.count, ["-H", "-L", "-P"].contains(args[k]) || args[k].hasPrefix("-D") || args[k].hasPrefix("-O") { k += args[k] == "-D" ? 2 : 1 }
        var roots: [String] = []
        while k < args.count, !(args[k].hasPrefix("-") || args[k] == "(" || args[k] == "!" || args[k] == ",") { roots.append(args[k]); k += 1 }
        if roots.isEmpty { roots = ["."] }
        let expression = Array(args[min(k, args.count)...])
        let names = zip(expression, expression.dropFirst()).compactMap { ["-name", "-iname"].contains($0.0) ? $0.1 : nil }
        let filtered = !names.isEmpty && !expression.contains { ["-o", "-or", ",", "-path", "-wholename", "-ipath", "-regex", "-iregex", "!", "-not"].contains($0) }
        func items(_ root: String) -> String {
            if filtered, !rootHoldsMatch(root, names: names, a, state) { return Marker.opaqueString }
            return Marker.under(GuardPaths.collapse(a.absolute(root, state)))
        }
        var e = 0
        while e < expression.count {
            let w = expression[e]
            switch w {
            case "-delete":
                for r in roots where items(r) != Marker.opaqueString { a.record(.write(a.place(r, state, follow: true), .tree, by: "find -delete")) }
            case "-exec", "-execdir", "-ok", "-okdir":
                var command: [String] = []
                e += 1
                while e < expression.count, expression[e] != ";" && expression[e] != "+" { command.append(expression[e]); e += 1 }
                for r in roots {
                    let item = items(r)
                    let argv = command.map { $0.replacingOccurrences(of: "{}", with: item) }
                    var inner = state
                    if w.hasSuffix("dir") { inner.cwd = item == Marker.opaqueString ? GuardPaths.join(state.cwd, Marker.opaqueString) : item }
                    runWrapped(command.contains(where: { $0.contains("{}") }) ? argv : argv + [item], a, &inner, .none)
                }
            case "-fprint", "-fprint0", "-fls", "-fprintf":
                if e + 1 < expression.count { a.record(.write(a.place(expression[e + 1], state, follow: true), .node, by: "find \(w)")) }
                e += 1
            default:
                break
            }
            e += 1
        }
    }

    /// Whether some entry of a guarded folder under `root` has a name matching every `-name` pattern (bounded walk).
    static func rootHoldsMatch(_ root: String, names: [String], _ a: ShellAnalyzer, _ state: State) -> Bool {
        guard let guardRoots = a.guardedRoots?(), Marker.isPlain(root) else { return true }
        let abs = GuardPaths.resolve(a.absolute(root, state), links: a.links)
        var visited = 0
        func matches(_ name: String) -> Bool {
            names.allSatisfy { fnmatch($0, name, 0) == 0 || fnmatch($0.lowercased(), name.lowercased(), 0) == 0 }
        }
        if guardRoots.contains(where: { GuardPaths.isInside(abs, $0) }) || abs.split(separator: "/").contains(".talks") { return true }
        for g in guardRoots where GuardPaths.isInside(g, abs) {
            // The folders between the root and the guarded folder, then everything inside it.
            var p = g
            while p.count > abs.count && GuardPaths.isInside(p, abs) {
                if matches(FileSystem.lastComponent(of: p)) { return true }
                p = FileSystem.parentDirectory(of: p)
            }
            var stack = [g]
            while let dir = stack.popLast() {
                guard let d = opendir(dir) else { continue }
                defer { closedir(d) }
                while let entry = readdir(d) {
                    visited += 1
                    if visited > 5000 { return true }
                    let name = withUnsafePointer(to: entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
                    if name == "." || name == ".." { continue }
                    if matches(name) { return true }
                    if entry.pointee.d_type == UInt8(DT_DIR) { stack.append(dir + "/" + name) }
                }
            }
        }
        return false
    }

    // MARK: tar, patch, curl

    static func tar(_ args: [String], _ a: ShellAnalyzer, _ state: inout State) {
        var list = args
        // Old-style bundled first argument: `tar xzf a.tgz`.
        if let first = list.first, !first.hasPrefix("-"), first.allSatisfy({ $0.isLetter }) { list[0] = "-" + first }
        let o = ProgramOptions(list, shortWithValue: "fCbHKLNgTVX", longWithValue: ["--file", "--directory", "--exclude", "--files-from", "--exclude-from", "--format", "--transform", "--xform", "--owner", "--group", "--mode", "--newer", "--to-command", "--use-compress-program", "--label"])
        let extract = o.has("-x", "--extract", "--get")
        let create = o.has("-c", "--create", "-r", "--append", "-u", "--update", "-A", "--catenate", "--concatenate", "--delete")
        if extract && !o.has("-O", "--to-stdout") {
            let dirs = o.values("-C", "--directory")
            if o.has("-P", "--absolute-names") { a.record(.write(.anywhere, .tree, by: "tar -P")) }
            for d in dirs.isEmpty ? ["."] : dirs { a.record(.write(a.place(d, state, follow: true), .tree, by: "tar")) }
        }
        if create {
            for f in o.values("-f", "--file") where f != "-" { a.record(.write(a.place(f, state, follow: true), .node, by: "tar")) }
            if o.has("--remove-files") { for f in o.operands { a.record(.write(a.place(f, state, follow: false), .tree, by: "tar --remove-files")) } }
        }
        for command in o.values("--to-command", "--use-compress-program", "-I") { a.runScript(command, &state, positional: [], stdin: .unknown) }
    }

    static func patch(_ args: [String], _ a: ShellAnalyzer, _ state: inout State, _ stdin: Stream) {
        let o = ProgramOptions(args, shortWithValue: "ipdoBDFrVYzgM", longWithValue: ["--input", "--strip", "--directory", "--output", "--prefix", "--ifdef", "--fuzz", "--reject-file", "--version-control", "--basename-prefix", "--suffix", "--get", "--merge"])
        if o.has("--dry-run", "-C", "--check") { return }
        var inner = state
        for d in o.values("-d", "--directory") { inner.cwd = GuardPaths.join(state.cwd, d) }
        for out in o.values("-o", "--output") where out != "-" { a.record(.write(a.place(out, inner, follow: true), .node, by: "patch")); return }
        if let original = o.operands.first {
            a.record(.write(a.place(original, inner, follow: true), .node, by: "patch"))
            return
        }
        var text: Stream = stdin
        if let input = o.values("-i", "--input").first { text = a.fileStream(input, inner) }
        guard case .text(let t) = text, Marker.isPlain(t) else {
            a.record(.write(a.place(".", inner, follow: true), .tree, by: "patch"))
            return
        }
        for p in UnifiedDiff.paths(in: t) {
            // Any -p strip level may apply: every suffix of the path is a candidate.
            var parts = p.split(separator: "/").map(String.init)
            while !parts.isEmpty {
                a.record(.write(a.place(parts.joined(separator: "/"), inner, follow: true), .node, by: "patch"))
                parts.removeFirst()
            }
            if p.hasPrefix("/") { a.record(.write(a.place(p, inner, follow: true), .node, by: "patch")) }
        }
    }

    static func curl(_ args: [String], _ a: ShellAnalyzer, _ state: inout State) {
        let o = ProgramOptions(args, shortWithValue: "AbcCdDeEFHKmoPQrtTuUwxXyYz", longWithValue: ["--output", "--dump-header", "--cookie-jar", "--trace", "--trace-ascii", "--stderr", "--libcurl", "--etag-save", "--hsts", "--alt-svc", "--output-dir", "--config", "--data", "--data-binary", "--data-raw", "--data-urlencode", "--header", "--user", "--user-agent", "--request", "--form", "--cookie", "--referer", "--upload-file", "--max-time", "--connect-timeout", "--retry", "--proxy", "--cert", "--key", "--cacert", "--write-out", "--range", "--continue-at", "--resolve", "--url"])
        func write(_ w: String) { a.record(.write(a.place(w, state, follow: true), .node, by: "curl")) }
        let dir = o.values("--output-dir").first
        for f in o.values("-o", "--output") where f != "-" { write(dir.map { GuardPaths.join($0, f) } ?? f) }
        for f in o.values("-D", "--dump-header", "-c", "--cookie-jar", "--trace", "--trace-ascii", "--stderr", "--libcurl", "--etag-save", "--hsts", "--alt-svc") where f != "-" { write(f) }
        if o.has("-O", "--remote-name", "--remote-name-all", "-J", "--remote-header-name") {
            if let dir { a.record(.write(a.place(dir, state, follow: true), .tree, by: "curl")) } else { write(Marker.opaqueString) }
        }
    }

    // MARK: Scripts of line editors

    /// Files named by sed's `w`/`W` commands and `s///w` flags.
    static func sedWriteTargets(_ script: String) -> [String] {
        var out: [String] = []
        for line in script.split(whereSeparator: { $0 == "\n" || $0 == ";" }) {
            let l = line.trimmingCharacters(in: " \t")
            let chars = Array(l)
            var k = 0
            while k < chars.count {
                if (chars[k] == "w" || chars[k] == "W"), k + 1 < chars.count, chars[k + 1] == " ",
                   k == 0 || "/}gpiImMe0123456789!".contains(chars[k - 1]) || chars[k - 1] == " " {
                    out.append(String(chars[(k + 2)...]).trimmingCharacters(in: " \t"))
                    break
                }
                k += 1
            }
        }
        return out.filter { !$0.isEmpty && $0 != "/dev/stdout" && $0 != "/dev/stderr" }
    }

    /// sed's `e` command or `s///e` flag runs shell commands.
    static func sedExecutes(_ script: String) -> Bool {
        script.contains("/e") || script.split(whereSeparator: { $0 == ";" || $0 == "\n" }).contains { $0.trimmingCharacters(in: " \t").hasPrefix("e") }
    }

    /// awk code that can write: output redirection, pipes to commands, system().
    static func awkMayWrite(_ program: String) -> Bool {
        program.contains(">") || program.contains("|") || program.contains("system") || program.contains("close(") || program.contains("@load")
    }

    /// Files named by `:w FILE`, `:saveas FILE`, `:sav`, `:x FILE`, `:wq FILE` in vim/ex commands or ed scripts.
    static func vimWriteTargets(_ script: String) -> [String] {
        var out: [String] = []
        for raw in script.split(whereSeparator: { $0 == "\n" || $0 == "|" }) {
            var l = raw.trimmingCharacters(in: " \t:+")
            while let f = l.first, f.isNumber || f == "," || f == "%" || f == "$" || f == "." { l.removeFirst() }
            for cmd in ["write", "wq", "wall", "w!", "w", "saveas", "sav", "x", "exit", "xit", "up", "update"] where l.hasPrefix(cmd) {
                let rest = l.dropFirst(cmd.count).trimmingCharacters(in: " \t!")
                if !rest.isEmpty, !rest.hasPrefix(">>") || true { out.append(rest.hasPrefix(">>") ? rest.dropFirst(2).trimmingCharacters(in: " ") : rest) }
                break
            }
        }
        return out.filter { !$0.isEmpty && !$0.hasPrefix("!") }
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }

    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        return self.replacing(target, with: replacement)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String { String(self).trimmingCharacters(in: set) }
}
