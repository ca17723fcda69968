import CJQ

/// A failure of a jq program: it does not compile, or it failed on an input.
public struct JQError: Error, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// A jq program compiled once through libjq and run on many JSON inputs.
///
/// libjq 1.6 spends about 20 ms in `jq_compile`, so a filter is compiled once per process and only when the user
/// gave one; hook paths never build one. Not thread-safe (jv reference counts are not atomic): use from one thread.
public final class JQFilter {
    private var state: OpaquePointer?
    private let errors: ErrorSink
    public let program: String

    final class ErrorSink { var messages: [String] = [] }

    /// Compiles `program`; a syntax error throws `.badFilter` with jq's own message. `onOutOfMemory` runs when an
    /// allocation inside libjq fails (libjq aborts the process if it returns).
    public init(_ program: String, onOutOfMemory: (@convention(c) (UnsafeMutableRawPointer?) -> Void)? = nil) throws(JQError) {
        self.program = program
        self.errors = ErrorSink()
        guard let jq = jq_init() else { throw JQError("cannot initialise jq") }
        state = jq
        jq_set_error_cb(jq, jqErrorCallback, Unmanaged.passUnretained(errors).toOpaque())
        if let onOutOfMemory { jq_set_nomem_handler(jq, onOutOfMemory, nil) }
        if program.utf8.contains(0) {
            jq_teardown(&state)
            throw JQError("the program contains a NUL byte")
        }
        if jq_compile_args(jq, program, jv_object()) == 0 {
            let text = errors.messages.filter { !$0.hasSuffix("compile error") && !$0.hasSuffix("compile errors") }
            let detail = (text.first ?? errors.messages.first ?? "does not compile")
                .replacing("\n", with: " ")
                .replacing("jq: error: ", with: "")
            jq_teardown(&state)
            throw JQError("\(detail) (in '\(printable(program))')")
        }
    }

    deinit { if state != nil { jq_teardown(&state) } }

    /// Runs the program on one JSON text and returns every output, each as compact JSON.
    public func run(json: String) throws(JQError) -> [String] {
        try run(json: json, limit: Int.max)
    }

    /// Runs the program on one JSON text and returns its outputs up to `limit`: the program is not asked for more,
    /// so one that would go on forever (`repeat(.)`) still gives its first outputs.
    public func run(json: String, limit: Int) throws(JQError) -> [String] {
        var outputs: [String] = []
        try evaluate(json: json) { value in
            let dumped = jv_dump_string(value, 0)
            outputs.append(String(cString: jv_string_value(dumped)))
            jv_free(dumped)
            return outputs.count < limit
        }
        return outputs
    }

    /// Select semantics: keeps an input when the program's first output is neither `false` nor `null`
    /// (so both `.type == "query"` and `select(.type == "query")` work). Only the first output is computed, and it
    /// is judged by its kind, never printed.
    public func matches(json: String) throws(JQError) -> Bool {
        var verdict = false
        try evaluate(json: json) { value in
            let kind = jv_get_kind(value)
            verdict = kind != JV_KIND_FALSE && kind != JV_KIND_NULL
            jv_free(value)
            return false
        }
        return verdict
    }

    /// Feeds one JSON text to the program and hands each output (owned) to `body` while it returns true.
    private func evaluate(json: String, _ body: (jv) -> Bool) throws(JQError) {
        guard let jq = state else { return }
        let input = json.withCString { jv_parse($0) }
        if jv_is_valid(input) == 0 {
            let m = jv_invalid_get_msg(input)
            defer { jv_free(m) }
            let text = jv_get_kind(m) == JV_KIND_STRING ? String(cString: jv_string_value(m)) : "invalid JSON"
            throw JQError("input is not JSON: \(printable(text))")
        }
        jq_start(jq, input, 0)
        while true {
            let result = jq_next(jq)
            if jv_is_valid(result) != 0 {
                if body(result) { continue }
                return
            }
            if jv_invalid_has_msg(jv_copy(result)) != 0 {
                let m = jv_invalid_get_msg(result)
                defer { jv_free(m) }
                let text: String
                if jv_get_kind(m) == JV_KIND_STRING {
                    text = String(cString: jv_string_value(m))
                } else {
                    let dumped = jv_dump_string(jv_copy(m), 0)
                    text = String(cString: jv_string_value(dumped))
                    jv_free(dumped)
                }
                throw JQError("\(printable(text)) (in '\(printable(program))')")
            }
            jv_free(result)
            return
        }
    }
}

/// Control characters escaped, long text cut, for one-line errors.
func printable(_ s: String) -> String {
    let cleaned = s.unicodeScalars.map { u -> String in
        u.value < 32 || u.value == 127 ? "\\u{\(String(u.value, radix: 16))}" : String(u)
    }.joined()
    return cleaned.count > 80 ? String(cleaned.prefix(80)) + "…" : cleaned
}

/// jq's error callback. Kept out of main.swift so it is not main-actor isolated (Swift 6).
let jqErrorCallback: @convention(c) (UnsafeMutableRawPointer?, jv) -> Void = { context, message in
    guard let context else { jv_free(message); return }
    let sink = Unmanaged<JQFilter.ErrorSink>.fromOpaque(context).takeUnretainedValue()
    if jv_get_kind(message) == JV_KIND_STRING {
        sink.messages.append(String(cString: jv_string_value(message)))
        jv_free(message)
    } else {
        let dumped = jv_dump_string(message, 0)
        sink.messages.append(String(cString: jv_string_value(dumped)))
        jv_free(dumped)
    }
}
