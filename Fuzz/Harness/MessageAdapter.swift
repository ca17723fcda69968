@testable import SessionBridge

/// Message decoding and encoding as the fuzzers see them. Re-point here when the message store's API changes.
enum MessageAdapter {
    /// A stored message file's bytes to a message, as the store reads them (nil: not a message).
    static func decode(_ bytes: [UInt8]) -> Message? {
        JSONCoding.decode(Message.self, from: bytes)
    }

    /// A message as the store writes it.
    static func encode(_ m: Message) -> [UInt8] {
        JSONCoding.encode(m)
    }

    /// Whether the store would deliver a decoded message (checksum and ids).
    static func isIntact(_ m: Message) -> Bool { m.isIntact }

    /// A new message as `ask` / `reply` build it.
    static func make(from: String, fromName: String, to: String, toName: String, type: MessageType, inReplyTo: String?,
                     content: String) -> Message {
        Message(from: from, fromName: fromName, to: to, toName: toName, type: type, inReplyTo: inReplyTo, content: content)
    }

    /// Validation of message text from a user or an agent: the accepted text, or nil when refused.
    static func validateContent(_ bytes: [UInt8]) -> String? {
        try? MessageContent.validate(bytes, limit: MessageContent.defaultLimit)
    }

    /// The hand-written JSON string literal used by hot paths.
    static func quoted(_ s: String) -> String { JSONCoding.quoted(s) }
}
