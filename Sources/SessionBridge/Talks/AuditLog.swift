/// `.talks/audit.log`: one JSON line per operation (who, what, which talk and turn, nonce, result), appended with
/// a single write so concurrent writers never interleave. An acknowledged turn's line also carries the turn itself
/// (content, checksum, time, who is next), so `doctor --fix` can recover a turn the talk file lost.
package struct AuditEntry: Codable, Sendable, Equatable {
    package var at: String
    package var who: String
    package var op: String
    package var talk: String
    package var turn: Int?
    package var nonce: String?
    package var result: String
    package var detail: String?
    /// The turn's content, checksum, time and next speaker (acknowledged `say` only).
    package var content: String?
    package var sha256: String?
    package var turnAt: String?
    package var next: String?

    package init(who: String, op: String, talk: String, turn: Int? = nil, nonce: String? = nil, result: String, detail: String? = nil) {
        self.at = Clock.nowISO8601()
        self.who = who
        self.op = op
        self.talk = talk
        self.turn = turn
        self.nonce = nonce
        self.result = result
        self.detail = detail
    }

    /// The JSON line, keys sorted, absent fields left out: the same text JSONCoding would write, without the
    /// encoder's start-up cost on every turn.
    package var line: String {
        var fields = ["\"at\":" + JSONCoding.quoted(at)]
        if let content { fields.append("\"content\":" + JSONCoding.quoted(content)) }
        if let detail { fields.append("\"detail\":" + JSONCoding.quoted(detail)) }
        if let next { fields.append("\"next\":" + JSONCoding.quoted(next)) }
        if let nonce { fields.append("\"nonce\":" + JSONCoding.quoted(nonce)) }
        fields += ["\"op\":" + JSONCoding.quoted(op), "\"result\":" + JSONCoding.quoted(result)]
        if let sha256 { fields.append("\"sha256\":" + JSONCoding.quoted(sha256)) }
        fields.append("\"talk\":" + JSONCoding.quoted(talk))
        if let turn { fields.append("\"turn\":\(turn)") }
        if let turnAt { fields.append("\"turnAt\":" + JSONCoding.quoted(turnAt)) }
        fields.append("\"who\":" + JSONCoding.quoted(who))
        return "{" + fields.joined(separator: ",") + "}"
    }
}

extension AuditEntry {
    /// The entry of an acknowledged turn: the turn itself rides along.
    init(acknowledged turn: Turn, talk: String, next: String, detail: String? = nil) {
        self.init(who: turn.speaker, op: "say", talk: talk, turn: turn.number, nonce: turn.nonce, result: "ok", detail: detail)
        content = turn.content
        sha256 = turn.checksum
        turnAt = turn.at
        self.next = next
    }

    /// The turn this entry acknowledges, when it carries one whose checksum matches.
    var acknowledgedTurn: Turn? {
        guard op == "say", result == "ok", let turn, let nonce, let content, let sha256, let turnAt, SHA256.hex(content) == sha256 else {
            return nil
        }
        return Turn(number: turn, speaker: who, content: content, nonce: nonce, checksum: sha256, at: turnAt)
    }
}
