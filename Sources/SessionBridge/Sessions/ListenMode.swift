/// How a session listens between turns, kept in `sessions/<id>/listening` (absent = off) so hooks can check it
/// with one small read.
package enum ListenMode: String, Codable, Sendable, CaseIterable {
    /// A synchronous Stop hook waits for the next message and continues the session with it.
    case foreground
    /// An asyncRewake Stop hook waits in the background and wakes the model when a message arrives; the user keeps
    /// working meanwhile.
    case background
}
