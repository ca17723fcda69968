/// Command-line options the way getopt reads them: bundled short flags (`-xzf FILE`, `-sSLo FILE`), long options
/// with `=` or a separate value, `--` ending the options. Programs that take options after operands (GNU style)
/// are read the same way.
struct ProgramOptions {
    /// Each flag seen (`-x` or `--name`) with its value, in order.
    var flags: [(name: String, value: String?)] = []
    var operands: [String] = []

    /// `shortWithValue`: the letters whose option takes a value; `longWithValue`: the long names that do.
    /// `stopAtOperand`: options end at the first operand (POSIX style, and wrappers such as `sudo CMD`).
    init(_ args: [String], shortWithValue: String = "", longWithValue: Set<String> = [], stopAtOperand: Bool = false) {
        var k = 0
        let valued = Set(shortWithValue)
        while k < args.count {
            let a = args[k]
            k += 1
            if a == "--" {
                operands += args[k...]
                break
            }
            if a.hasPrefix("--") && a.count > 2 {
                if let eq = a.firstIndex(of: "=") {
                    flags.append((String(a[..<eq]), String(a[a.index(after: eq)...])))
                } else if longWithValue.contains(a), k < args.count {
                    flags.append((a, args[k]))
                    k += 1
                } else {
                    flags.append((a, nil))
                }
                continue
            }
            if a.hasPrefix("-") && a.count > 1 && a.first != Marker.any {
                let letters = Array(a.dropFirst())
                var j = 0
                while j < letters.count {
                    let ch = letters[j]
                    if valued.contains(ch) {
                        let rest = String(letters[(j + 1)...])
                        if !rest.isEmpty {
                            flags.append(("-" + String(ch), rest))
                        } else if k < args.count {
                            flags.append(("-" + String(ch), args[k]))
                            k += 1
                        } else {
                            flags.append(("-" + String(ch), nil))
                        }
                        break
                    }
                    flags.append(("-" + String(ch), nil))
                    j += 1
                }
                continue
            }
            operands.append(a)
            if stopAtOperand {
                operands += args[k...]
                break
            }
        }
    }

    func has(_ names: String...) -> Bool { flags.contains { names.contains($0.name) } }

    func values(_ names: String...) -> [String] { flags.compactMap { names.contains($0.name) ? $0.value : nil } }

    /// Whether a long option starting with this prefix is present (`--in-place=.bak`, `--delete-after` …).
    func hasPrefix(_ prefix: String) -> Bool { flags.contains { $0.name.hasPrefix(prefix) } }
}
