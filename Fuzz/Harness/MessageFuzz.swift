import Foundation
@testable import SessionBridge

/// The message target. The first byte picks the mode:
///   0 the rest is a stored message file: when it decodes, encoding and decoding again gives the same message
///     and the same bytes;
///   1 the rest is split at NUL bytes into from, fromName, to, toName, inReplyTo and content of a new message:
///     it survives encode and decode byte for byte, checksum included; content that validation accepts is
///     exactly the bytes given;
///   2 the rest is a string: the hand-written JSON quoting decodes back to it and matches JSONEncoder's.
enum MessageFuzz {
    static func check(_ bytes: [UInt8]) -> FuzzFailure? {
        guard let first = bytes.first else { return nil }
        let rest = Array(bytes.dropFirst())
        switch first % 3 {
        case 0: return checkStored(rest)
        case 1: return checkNew(rest)
        default: return checkQuoted(String(decoding: rest, as: UTF8.self))
        }
    }

    static func checkStored(_ bytes: [UInt8]) -> FuzzFailure? {
        guard let m = MessageAdapter.decode(bytes) else { return nil }
        let encoded = MessageAdapter.encode(m)
        guard let again = MessageAdapter.decode(encoded) else {
            return FuzzFailure(.message, "encoded-decodes", "the encoding of a decoded message does not decode: \(FuzzInput.show(String(decoding: encoded, as: UTF8.self)))")
        }
        if let diff = difference(m, again) { return FuzzFailure(.message, "round-trip", diff) }
        guard MessageAdapter.encode(again) == encoded else { return FuzzFailure(.message, "encode-stable", "encoding twice gives other bytes") }
        guard MessageAdapter.isIntact(m) == MessageAdapter.isIntact(again) else {
            return FuzzFailure(.message, "intact-stable", "the integrity check changes across a round trip")
        }
        return nil
    }

    static func checkNew(_ bytes: [UInt8]) -> FuzzFailure? {
        var parts = bytes.split(separator: 0, maxSplits: 5, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        while parts.count < 6 { parts.append("") }
        let types = MessageType.allCases
        let type = types[parts[0].utf8.count % types.count]
        let m = MessageAdapter.make(from: parts[0], fromName: parts[1], to: parts[2], toName: parts[3], type: type,
                                    inReplyTo: parts[4].isEmpty ? nil : parts[4], content: parts[5])
        let encoded = MessageAdapter.encode(m)
        guard let back = MessageAdapter.decode(encoded) else {
            return FuzzFailure(.message, "new-decodes", "a new message's encoding does not decode: \(FuzzInput.show(String(decoding: encoded, as: UTF8.self)))")
        }
        if let diff = difference(m, back) { return FuzzFailure(.message, "new-round-trip", diff) }
        guard MessageAdapter.isIntact(m) == MessageAdapter.isIntact(back) else {
            return FuzzFailure(.message, "new-intact", "the integrity check changes across encode and decode")
        }
        let contentBytes = bytes.split(separator: 0, maxSplits: 5, omittingEmptySubsequences: false).dropFirst(5).first.map(Array.init) ?? []
        if let accepted = MessageAdapter.validateContent(contentBytes), Array(accepted.utf8) != contentBytes {
            return FuzzFailure(.message, "validate-exact", "validation accepted the content but changed its bytes")
        }
        return nil
    }

    static func checkQuoted(_ s: String) -> FuzzFailure? {
        let q = MessageAdapter.quoted(s)
        guard let back = try? JSONDecoder().decode(String.self, from: Data(q.utf8)) else {
            return FuzzFailure(.message, "quoted-decodes", "\(FuzzInput.show(q)) is not a JSON string")
        }
        guard FuzzInput.same(back, s) else { return FuzzFailure(.message, "quoted-exact", "\(FuzzInput.show(s)) came back as \(FuzzInput.show(back))") }
        let viaEncoder = JSONCoding.string(s)
        guard FuzzInput.same(viaEncoder, q) else {
            return FuzzFailure(.message, "quoted-is-encoder", "quoted \(FuzzInput.show(q)) · JSONEncoder \(FuzzInput.show(viaEncoder))")
        }
        return nil
    }

    /// The first field that differs, byte for byte, or nil.
    static func difference(_ a: Message, _ b: Message) -> String? {
        let fields: [(String, String?, String?)] = [
            ("id", a.id, b.id), ("from", a.from, b.from), ("fromName", a.fromName, b.fromName), ("to", a.to, b.to),
            ("toName", a.toName, b.toName), ("inReplyTo", a.inReplyTo, b.inReplyTo), ("createdAt", a.createdAt, b.createdAt),
            ("content", a.content, b.content), ("sha256", a.sha256, b.sha256),
        ]
        for (name, x, y) in fields where !FuzzInput.same(x, y) {
            return "\(name): \(FuzzInput.show(x ?? "null")) became \(FuzzInput.show(y ?? "null"))"
        }
        if a.schema != b.schema || a.type != b.type { return "schema or type changed" }
        return nil
    }
}
