/// A small Markdown renderer for talk turns: paragraphs, headings, lists, quotes, fenced code, inline code,
/// emphasis and http(s) links. Every piece of text is escaped as it is emitted, so the output holds no markup but
/// the tags made here (no raw HTML passes through, whatever the input).
package enum Markdown {
    package static func render(_ source: String) -> String {
        var out = ""
        var paragraph: [Substring] = []
        var list: (ordered: Bool, items: [Substring])?
        var quote: [Substring] = []
        var fence: (marker: String, lines: [Substring])?

        func flushParagraph() {
            guard !paragraph.isEmpty else { return }
            out += "<p>" + paragraph.map { inline($0) }.joined(separator: "<br>") + "</p>\n"
            paragraph = []
        }
        func flushList() {
            guard let l = list else { return }
            let tag = l.ordered ? "ol" : "ul"
            out += "<\(tag)>" + l.items.map { "<li>" + inline($0) + "</li>" }.joined() + "</\(tag)>\n"
            list = nil
        }
        func flushQuote() {
            guard !quote.isEmpty else { return }
            out += "<blockquote>" + quote.map { inline($0) }.joined(separator: "<br>") + "</blockquote>\n"
            quote = []
        }
        func flushAll() { flushParagraph(); flushList(); flushQuote() }

        for rawLine in source.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if var f = fence {
                if line.trimmingLeadingSpaces().hasPrefix(f.marker) && line.trimmingBlank().allSatisfy({ $0 == f.marker.first }) {
                    out += "<pre><code>" + HTML.escape(f.lines.joined(separator: "\n")) + "</code></pre>\n"
                    fence = nil
                } else {
                    f.lines.append(line)
                    fence = f
                }
                continue
            }
            let trimmed = line.trimmingLeadingSpaces()
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                flushAll()
                fence = (String(trimmed.prefix(3)), [])
                continue
            }
            if trimmed.isEmpty { flushAll(); continue }
            if let level = headingLevel(trimmed) {
                flushAll()
                // Turns sit under the page's own headings: a turn's "#" is shown one level below them.
                let tag = "h\(min(6, level + 2))"
                out += "<\(tag)>" + inline(trimmed.dropFirst(level).trimmingBlank()) + "</\(tag)>\n"
                continue
            }
            if let item = listItem(trimmed) {
                flushParagraph(); flushQuote()
                if list == nil || list?.ordered != item.ordered { flushList(); list = (item.ordered, []) }
                list?.items.append(item.text)
                continue
            }
            if trimmed.hasPrefix(">") {
                flushParagraph(); flushList()
                quote.append(trimmed.dropFirst().trimmingLeadingSpaces())
                continue
            }
            if list != nil, line.first == " ", var l = list, !l.items.isEmpty {
                // A continuation line of the last list item.
                l.items[l.items.count - 1] = Substring(String(l.items[l.items.count - 1]) + " " + String(trimmed))
                list = l
                continue
            }
            flushList(); flushQuote()
            paragraph.append(line)
        }
        if let f = fence { out += "<pre><code>" + HTML.escape(f.lines.joined(separator: "\n")) + "</code></pre>\n" }
        flushAll()
        return out
    }

    static func headingLevel(_ line: Substring) -> Int? {
        let hashes = line.prefix { $0 == "#" }.count
        guard hashes >= 1, hashes <= 6 else { return nil }
        let rest = line.dropFirst(hashes)
        return rest.isEmpty || rest.first == " " ? hashes : nil
    }

    static func listItem(_ line: Substring) -> (ordered: Bool, text: Substring)? {
        if let f = line.first, f == "-" || f == "*" || f == "+", line.dropFirst().first == " " {
            return (false, line.dropFirst(2))
        }
        let digits = line.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, digits.count <= 9 {
            let rest = line.dropFirst(digits.count)
            if let d = rest.first, d == "." || d == ")", rest.dropFirst().first == " " { return (true, rest.dropFirst(2)) }
        }
        return nil
    }

    /// Inline spans: `code`, **strong**, *emphasis*, [text](http(s) link). Anything unmatched is literal text.
    /// Linear in the text: the closing delimiters are found through tables of next positions built once.
    static func inline<S: StringProtocol>(_ text: S) -> String {
        let chars = Array(String(text))
        let n = chars.count
        // next[k][j]: the first position >= j where delimiter k starts (n when none).
        var nextTick = [Int](repeating: n, count: n + 2)
        var nextStar = nextTick, nextDouble = nextTick, nextMid = nextTick, nextClose = nextTick
        var j = n - 1
        while j >= 0 {
            nextTick[j] = chars[j] == "`" ? j : nextTick[j + 1]
            nextStar[j] = chars[j] == "*" ? j : nextStar[j + 1]
            nextDouble[j] = chars[j] == "*" && j + 1 < n && chars[j + 1] == "*" ? j : nextDouble[j + 1]
            nextMid[j] = chars[j] == "]" && j + 1 < n && chars[j + 1] == "(" ? j : nextMid[j + 1]
            nextClose[j] = chars[j] == ")" ? j : nextClose[j + 1]
            j -= 1
        }
        var out = ""
        var literal = ""
        var i = 0
        func flush() { out += HTML.escape(literal); literal = "" }
        while i < n {
            let c = chars[i]
            if c == "`" {
                let end = nextTick[i + 1]
                if end < n, end > i + 1 {
                    flush()
                    out += "<code>" + HTML.escape(String(chars[(i + 1)..<end])) + "</code>"
                    i = end + 1
                    continue
                }
            }
            if c == "*", i + 1 < n, chars[i + 1] == "*" {
                let end = nextDouble[i + 2]
                if end < n, end > i + 2 {
                    flush()
                    out += "<strong>" + inline(String(chars[(i + 2)..<end])) + "</strong>"
                    i = end + 2
                    continue
                }
            }
            if c == "*", i + 1 < n, chars[i + 1] != " ", chars[i + 1] != "*" {
                let end = nextStar[i + 1]
                if end < n {
                    flush()
                    out += "<em>" + inline(String(chars[(i + 1)..<end])) + "</em>"
                    i = end + 1
                    continue
                }
            }
            if c == "[" {
                let mid = nextMid[i + 1]
                let end = mid < n ? nextClose[mid + 2] : n
                if mid < n, end < n, mid > i + 1 {
                    let url = String(chars[(mid + 2)..<end])
                    if isSafeLink(url) {
                        flush()
                        out += "<a href=\"" + HTML.escape(url) + "\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">"
                            + inline(String(chars[(i + 1)..<mid])) + "</a>"
                        i = end + 1
                        continue
                    }
                }
            }
            literal.append(c)
            i += 1
        }
        flush()
        return out
    }

    /// Only absolute http(s) links without spaces, quotes, angle brackets or hidden characters: no javascript:, data:
    /// or relative URLs, and no bidi override that would disguise where a link goes (such a link stays text, where the
    /// escaper marks the hidden character).
    static func isSafeLink(_ url: String) -> Bool {
        let lower = url.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else { return false }
        return !url.unicodeScalars.contains {
            $0.value <= 0x20 || $0 == "\"" || $0 == "'" || $0 == "<" || $0 == ">" || $0 == "`" || HTML.isHidden($0)
        }
    }
}

extension Substring {
    func trimmingLeadingSpaces() -> Substring { drop { $0 == " " || $0 == "\t" } }
    func trimmingBlank() -> Substring {
        var s = trimmingLeadingSpaces()
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
