/// What the rules decided about a change: the result of accepting it, or why it is refused.
package enum TalkDecision<Value> {
    case accept(Value)
    case refuse(TalkRefusal)
}

/// The rules of a talk, as pure functions of its current state: every engine decides every change with them,
/// inside its own atomic step, so turn-taking means the same on every engine.
package enum TalkRules {
    /// The turn `request` makes after `header`, and the header after it; or why it is refused. `turnsHeld` is how
    /// many turns the talk holds (the new turn's number is one more).
    package static func append(_ request: TurnRequest, after header: TalkHeader, turnsHeld: Int) -> TalkDecision<(turn: Turn, header: TalkHeader)> {
        let me = request.speaker
        guard header.status == .active else { return .refuse(.closed(header.status, reason: header.blockedReason)) }
        guard header.participants.contains(me) else { return .refuse(.notParticipant(me, participants: header.participants)) }
        guard header.nextSpeaker == me else { return .refuse(.notYourTurn(speaker: me, next: header.nextSpeaker)) }
        if let next = request.next, !header.participants.contains(next) {
            return .refuse(.nextNotParticipant(next, participants: header.participants))
        }
        let number = turnsHeld + 1
        if let expected = request.expectedNumber, expected != number { return .refuse(.turnTaken(expected: expected, actual: number)) }
        let turn = Turn(number: number, speaker: me, content: request.content, nonce: request.nonce,
                        checksum: SHA256.hex(request.content), at: request.at)
        var h = header
        h.turnCount = number
        h.updatedAt = request.at
        h.nextSpeaker = request.next ?? following(me, in: header.participants)
        if h.turnCount >= h.maxTurns {
            h.status = .blocked
            h.blockedReason = "max turns reached"
        }
        return .accept((turn, h))
    }

    /// The header after `closing`, or why it is refused.
    package static func close(_ closing: TalkClosing, _ header: TalkHeader) -> TalkDecision<TalkHeader> {
        var h = header
        guard h.participants.contains(closing.by) else { return .refuse(.notParticipant(closing.by, participants: h.participants)) }
        switch closing.kind {
        case .resolve(let summary):
            guard h.status != .resolved else { return .refuse(.alreadyResolved) }
            h.status = .resolved
            h.resolution = summary ?? "resolved by \(closing.by)"
        case .block(let reason):
            guard h.status == .active else { return .refuse(.notActive(h.status)) }
            h.status = .blocked
            h.blockedReason = reason
        }
        h.updatedAt = closing.at
        return .accept(h)
    }

    /// The participant after `name`, round-robin.
    package static func following(_ name: String, in participants: [String]) -> String {
        guard let i = participants.firstIndex(of: name) else { return participants[0] }
        return participants[(i + 1) % participants.count]
    }
}
