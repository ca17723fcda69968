/// One reply of the Redis protocol (RESP2, which is all hiredis 0.14 speaks), decoded into values.
package enum RedisReply: Sendable, Equatable {
    /// A bulk string: arbitrary bytes.
    case bulk([UInt8])
    /// A status line such as `OK` or `QUEUED`.
    case status(String)
    /// An error reply; its first word is the error's code (`WRONGPASS`, `NOPERM`, `NOSCRIPT`, ...).
    case error(String)
    case integer(Int64)
    /// A nil bulk or nil array (a blocking read that timed out, a missing key).
    case null
    case array([RedisReply])

    /// The text of a bulk or status reply (bulk bytes decoded as UTF-8, invalid sequences repaired).
    package var string: String? {
        switch self {
        case .bulk(let b): return String(decoding: b, as: UTF8.self)
        case .status(let s): return s
        default: return nil
        }
    }

    /// The value of an integer reply, or of a bulk holding a decimal integer (Redis returns numbers both ways).
    package var integer: Int64? {
        switch self {
        case .integer(let n): return n
        case .bulk(let b): return Int64(String(decoding: b, as: UTF8.self))
        default: return nil
        }
    }

    package var array: [RedisReply]? {
        if case .array(let a) = self { return a }
        return nil
    }

    package var isNull: Bool { self == .null }

    /// The bytes of a bulk reply.
    package var bytes: [UInt8]? {
        if case .bulk(let b) = self { return b }
        return nil
    }

    /// The error code of an error reply: its first word (`ERR`, `WRONGTYPE`, `NOPERM`, ...).
    package var errorCode: String? {
        guard case .error(let e) = self else { return nil }
        return String(e.prefix { $0 != " " })
    }

    /// A flat array of field/value pairs (HGETALL, a stream entry's fields) as a dictionary; nil on any other shape.
    package var fieldMap: [String: RedisReply]? {
        guard let a = array, a.count % 2 == 0 else { return nil }
        var out: [String: RedisReply] = [:]
        var i = 0
        while i < a.count {
            guard let k = a[i].string else { return nil }
            out[k] = a[i + 1]
            i += 2
        }
        return out
    }
}
