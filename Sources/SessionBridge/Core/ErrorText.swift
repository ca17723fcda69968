/// The one place a `BridgeError` (and each of its sub-errors) becomes the one-line text a person reads. The library
/// keeps errors as values; every edge that shows one (the CLI, hook decisions, the talk audit log, doctor findings)
/// renders it here, naming the helper as it is run where the text is shown.
extension BridgeError: CustomStringConvertible {
    /// The message, naming the helper as this process is run (`HelperName.current`).
    package var message: String { message(helper: .current) }

    /// The message with its commands spelled with `helper`, so that each runs where it is shown.
    package func message(helper: HelperName) -> String {
        switch self {
        case .noIdentity:
            return Identity.noSessionAdvice(Identity.situation(environment: .current()), helper: helper)
        case .sessionEnded(let id, let name):
            return "session '\(name)' (\(id)) has ended, so no command can act as it any more: start a new session with "
                + "`\(helper.command("start --name NAME"))` and use the id it prints (`\(helper.command("peers --all"))` "
                + "lists every session, ended ones too)"
        case .unknownPeer(let p):
            return "unknown peer '\(p)': run `\(helper.command("peers"))` to see the sessions you can reach"
        case .ambiguousPeer(let p, let c):
            return "peer '\(p)' is ambiguous (\(c.joined(separator: ", "))): use the id"
        case .peerEnded(let p):
            return "peer '\(p)' has ended its session: run `\(helper.command("peers"))` to see who is live"
        case .unknownMessage(let m):
            return "unknown message '\(m)': run `\(helper.command("inbox --all"))` to see message ids"
        case .invalidID(let s):
            return "invalid id '\(s)': ids contain only letters, digits and '-'"
        case .invalidName(let s):
            return "invalid name '\(s)': use 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
        case .emptyMessage:
            return "empty message: give the text as an argument, on stdin with '-', or with --file PATH"
        case .messageTooLarge(let size, let limit):
            return "message is \(size) bytes, over the \(limit)-byte cap (raise it with SESSION_BRIDGE_MAX_MESSAGE_BYTES)"
        case .binaryContent(let why):
            return "message is not text (\(why.text)): send UTF-8 text; encode binary data (e.g. base64) first"
        case .cannotMessageSelf:
            return "that peer is this session: a session cannot message itself"
        case .badFilter(let failure):
            return "bad jq filter: \(failure.text)"
        case .insecureStore(let finding):
            return "insecure store: \(finding.text)"
        case .storage(let failure):
            return "storage failure: \(failure.text(helper: helper))"
        case .storeUnreachable(let m):
            return "store unreachable: \(m)"
        case .io(let failure):
            return failure.text
        case .conflict(let conflict):
            return conflict.text(helper: helper)
        case .invalidInput(let input):
            return input.text(helper: helper)
        }
    }

    package var description: String { message }
}

extension BridgeError.BinaryContent {
    var text: String {
        switch self {
        case .nulBytes: return "it contains NUL bytes"
        case .notUTF8: return "it is not valid UTF-8"
        }
    }
}

extension BridgeError.FilterFailure {
    var text: String {
        switch self {
        case .nulInProgram: return "the program contains a NUL byte"
        case .helperMissing(let path): return "the jq helper is missing at \(path): build it with `swift build -c release`"
        case .helperStart(let path, let code): return "cannot start the jq helper \(path): \(FileSystem.errorText(code))"
        case .jq(let diagnostic): return diagnostic
        case .timedOut(let limit, let program):
            return "the program did not finish within \(limit): does it loop forever, e.g. repeat, range or recurse? (in '\(Identifiers.printable(program))')"
        case .killed(let signal, let program):
            return "the jq helper was killed by signal \(signal) (out of memory?) (in '\(Identifiers.printable(program))')"
        case .stopped(let program): return "the jq helper stopped unexpectedly (in '\(Identifiers.printable(program))')"
        }
    }
}

extension FileFailure {
    var text: String {
        let verb: String
        switch operation {
        case .close: verb = "cannot close"
        case .createTempFile: verb = "cannot create a temp file in"
        case .createFolder: verb = "cannot create folder"
        case .createLockFile: verb = "cannot create lock file"
        case .createStoreRoot: verb = "cannot create store root"
        case .flush: verb = "cannot flush"
        case .inspectStoreRoot: verb = "cannot inspect store root"
        case .lock: verb = "cannot lock"
        case .open: verb = "cannot open"
        case .publish: verb = "cannot publish"
        case .read: verb = "cannot read"
        case .recordSentCopy: verb = "cannot record the sent message"
        case .setMode: verb = "cannot set mode of"
        case .stat: verb = "cannot stat"
        case .write: verb = "cannot write"
        case .move(let from): verb = "cannot move \(from) to"
        }
        return "\(verb) \(path): \(FileSystem.errorText(errno))"
    }
}

extension BridgeError.StorageFailure {
    /// The text after "storage failure: ".
    func text(helper: HelperName) -> String {
        let fix = helper.command("doctor --fix")
        switch self {
        case .file(let failure): return failure.text
        case .store(let error): return error.detail
        case .reservationsOfAnotherProject(let record, let inRedis):
            return "the reservations record \(record)\(inRedis ? " in Redis" : "") belongs to another project: run `\(fix)`"
        case .reservationsDamaged(let record, let inRedis):
            return "the reservations record \(record)\(inRedis ? " in Redis" : "") is damaged: run `\(fix)`"
        case .reservationsUnreadable(let record, let error):
            return "cannot read the reservations record \(record): \(error.message(helper: helper))"
        case .reservationsKeptChanging(let project):
            return "the reservations of project \(Identifiers.printable(project)) kept changing under this write: try again"
        case .talkUnverified(let talk, let problem):
            return "could not verify the write to talk \(talk) after 5 attempts (\(problem))"
        }
    }
}

extension BridgeError.IOFailure {
    var text: String {
        switch self {
        case .file(let failure): return failure.text
        case .store(let error): return error.detail
        case .notRegularFile(let path, let symlink): return "not a regular file\(symlink ? " (a symlink)" : ""): \(path)"
        case .jqPipes(let code): return "cannot create pipes for the jq helper: \(FileSystem.errorText(code))"
        case .jqUnavailable:
            return "jq support (--filter) is unavailable: the jq helper cannot load libjq.so.1; install libjq1 (Debian, Ubuntu: sudo apt install libjq1)"
        case .dashboardMissing(let path, let explicit, let version):
            if explicit {
                return "the dashboard is not installed: SESSION_BRIDGE_UI names \(path), which is not an executable file"
            }
            if path.contains("/.build/"), path.contains("/debug/") {
                return "the dashboard is not built: \(path) is missing; run `swift build --product session-bridge-ui` beside this debug build"
            }
            if path.contains("/.build/") {
                return "the dashboard is not built: \(path) is missing; run scripts/build in the plugin folder (it builds session-bridge-ui beside session-bridge)"
            }
            return "the dashboard is not installed: \(path) is missing; this installation of session-bridge \(version) lacks it, so reinstall the release (its archive and .deb ship session-bridge-ui beside session-bridge)"
        case .cannotStart(let program, let code): return "cannot start \(program): \(FileSystem.errorText(code))"
        case .tmuxNewWindow(let stderr): return "tmux new-window failed: \(stderr)"
        case .tmuxSendKeys(let pane, let stderr): return "tmux send-keys to \(pane) failed: \(stderr)"
        case .tmuxEnter(let pane): return "tmux send-keys Enter to \(pane) failed"
        case .watcherCannotUseInotify(let reason):
            return "cannot watch with inotify (\(reason ?? "unavailable")) and watcher.polling_fallback is false"
        case .talkChangeNotRecorded(let change): return "\(change.noun) was not recorded"
        case .unexpectedRedisReply(let change): return "unexpected reply from Redis to a \(change.noun)"
        case .mirrorOutOfStep(let talk, let held):
            return "the turns of talk \(talk) from the engine do not follow the \(held) its mirror holds"
        case .normalizeWouldChangeContent(let talk): return "normalize of talk \(talk) would change its content; nothing written"
        }
    }
}

extension BridgeError.TalkChange {
    var noun: String {
        switch self {
        case .creation: return "talk's creation"
        case .turn: return "turn"
        case .resolution: return "resolution"
        case .block: return "block"
        case .closing: return "closing"
        case .change: return "talk's change"
        }
    }
}

extension BridgeError.InsecureStore {
    /// The text after "insecure store: ".
    var text: String {
        switch self {
        case .symlink(let root): return "\(root) is a symlink; point SESSION_BRIDGE_HOME at the real folder"
        case .notAFolder(let root): return "\(root) is not a folder"
        case .ownedByAnotherUser(let root, let owner, let user): return "\(root) is owned by uid \(owner), not by you (uid \(user))"
        case .writableByOthers(let root, let mode):
            return "\(root) is writable by group or others (mode \(String(mode, radix: 8))); run `chmod 700 \(root)`"
        case .store(let error): return error.detail
        }
    }
}

extension BridgeError.Conflict {
    func text(helper: HelperName) -> String {
        switch self {
        case .store(let error): return error.detail
        case .messageQuarantined(let id, let reason):
            return "message \(id) is malformed\(reason.map { " (\($0))" } ?? "") and was quarantined"
        case .messageExpired(let id): return "message \(id) expired unanswered (delivered too many times); the asker can ask again"
        case .alreadyAnswered(let id): return "message \(id) was already answered"
        case .takesNoReply(let id, let type): return "message \(id) is a \(type?.rawValue ?? "message") and takes no reply"
        case .watcherRunning(let store): return "a watcher already runs for \(store)"
        case .watcherLostLock(let store): return "the watcher lost its lock on \(store): another watcher took over"
        case .talkUnparsable(let talk, let problem):
            return "talk \(talk) cannot be parsed (\(problem.message)): run `\(helper.command("doctor --fix"))`"
        case .talkDamaged(let talk, let problem):
            return "talk \(talk) is damaged (\(problem.message)): run `\(helper.command("doctor --fix"))`"
        case .turnChecksum(let talk, let turn):
            return "turn \(turn) of talk \(talk) does not match its checksum (edited by hand?): normalize changes no content; see `\(helper.command("doctor"))`"
        case .talkRefused(let talk, let refusal, let listing): return refusal.text(talk: talk, listingParticipants: listing)
        case .talkLocked(let lock):
            return "the talk is locked by another writer (\(lock)); try again, or run `\(helper.command("doctor"))`"
        case .ambiguousTalkID(let text, let matches):
            return "talk id '\(text)' is ambiguous: \(matches.prefix(5).joined(separator: ", "))"
        case .noFreeTalkID(let topic): return "no free talk id for '\(topic)': try again"
        case .launchInsideAgent(let marker):
            return "launch binds a terminal for a person: it refuses to run inside an agent session (\(marker) is set)"
        case .reserved(let requested, let held): return ReservationText.conflict(requested: requested, held: held, helper: helper)
        }
    }
}

extension TalkRefusal {
    /// The refusal of a change to talk `id`, as `say`, `resolve` and `block` report it.
    func text(talk id: String, listingParticipants: Bool) -> String {
        switch self {
        case .closed(let status, let reason):
            return "talk \(id) is \(status.rawValue)\(reason.map { " (\($0))" } ?? ""): it accepts no turn"
        case .notParticipant(let who, let participants):
            return "\(who) is not a participant of talk \(id)"
                + (listingParticipants ? " (participants: \(participants.joined(separator: ", ")))" : "")
        case .notYourTurn(let speaker, let next):
            return "it is \(next)'s turn in talk \(id), not \(speaker)'s"
        case .nextNotParticipant(let next, let participants):
            return "--next \(next) is not a participant (\(participants.joined(separator: ", ")))"
        case .turnTaken(let expected, let actual):
            return "turn \(expected) of talk \(id) was taken: the next turn is \(actual); read the talk and speak again"
        case .alreadyResolved:
            return "talk \(id) is already RESOLVED"
        case .notActive(let status):
            return "talk \(id) is \(status.rawValue), not ACTIVE"
        }
    }
}

extension BridgeError.InvalidInput {
    func text(helper: HelperName) -> String {
        let p = Identifiers.printable
        switch self {
        case .store(let error): return error.detail
        case .notOneOf(let option, let allowed):
            let choices = allowed.count > 1 ? allowed.dropLast().joined(separator: ", ") + " or " + (allowed.last ?? "") : allowed.joined()
            return "\(option) must be \(choices)"
        case .listenModes: return "choose one of --foreground, --background, --off"
        case .textTwice: return "give the text either as an argument or with --file, not both"
        case .noSuchFile(let path): return "no such file: \(path)"
        case .fileTooLarge(let path, let size?, let limit): return "file \(path) is \(size) bytes, over the \(limit)-byte limit"
        case .fileTooLarge(let path, nil, let limit): return "file \(path) is over the \(limit)-byte limit"
        case .hookInputNotObject: return "hook input is not a JSON object"
        case .homeNotSet: return "HOME is not set"
        case .cannotRun(let program, let code): return "cannot run \(program): \(FileSystem.errorText(code))"
        case .launchWithoutCommand:
            return "give the agent command to run: \(helper.command("launch --alias NAME -- claude"))"
        case .launchOutsideTmux: return "launch needs to run inside tmux (TMUX and TMUX_PANE are not set); start tmux first"
        case .tmuxSocket(let tmux): return "cannot read the tmux socket from TMUX='\(tmux)'"
        case .invalidTTL(let text): return "invalid --ttl '\(p(text))': use 90s, 30m, 2h, 1d or a number of seconds"
        case .pathsAndAll: return "give paths or --all, not both"
        case .noReservationPaths: return "name at least one path or glob to reserve"
        case .reservationPath(let path):
            return "invalid reservation path '\(p(path))': give a path or glob of at most \(Reservation.patternLimit) bytes, without control characters"
        case .reservationPattern(let path): return "invalid reservation pattern '\(p(path))': '..' may not follow a wildcard"
        case .outsideProject(let path, let root): return "'\(p(path))' is outside the project root \(root)"
        case .reservationTTLRange:
            return "the TTL must be between 1 second and \(Reservation.maximumTTLSeconds / 86400) days"
        case .reservationReason:
            return "the reason must be one line of text of at most \(Reservation.reasonLimit) bytes"
        case .projectsDiffer(let pattern, let root, let firstPattern, let firstRoot):
            return "'\(pattern)' is in another project (\(root)) than '\(firstPattern)' (\(firstRoot)): reserve them separately"
        case .tooManyReservations(let limit): return "a project holds at most \(limit) reservations"
        case .noSpeaker:
            return "who is speaking? pass --as NAME, or join the bridge first with `\(helper.command("start --name NAME"))` (in an agent session or this terminal)"
        case .topicNotOneLine: return "the topic must be one non-empty line"
        case .noOtherParticipant: return "a talk needs at least one other participant: --with NAME[,NAME…]"
        case .maxTurnsBelowOne: return "--max-turns must be at least 1"
        case .notAParticipant(let option, let name, let participants):
            return "\(option) \(name) is not a participant (\(participants.joined(separator: ", ")))"
        case .emptyReason: return "--reason must not be empty"
        case .config(let path, let error): return "\(path): \(error.message)"
        case .configNotRegularFile(let path): return "\(path): not a regular file (a symlink, FIFO or folder is refused)"
        case .configUnreadable(let path, let error): return "\(path): \(error.message(helper: helper))"
        case .unsafeTalksFolder(let folder, let resolved, let why):
            return "the talks folder \(folder) resolves to \(p(resolved)), which is refused: \(why.reason)"
        case .unsafeConversationsFolder(let folder, let resolved, let why):
            return "the conversations folder \(folder) resolves to \(p(resolved)), which is refused: \(why.reason)"
        case .talkTooLarge(let talk, let size, let limit):
            return "talk \(talk) would be \(size) bytes with this change, over the \(limit)-byte limit "
                + "(SESSION_BRIDGE_MAX_TALK_BYTES); nothing was written: resolve it and continue in a new talk"
        case .unrepresentable(.talkHeader):
            return "this change cannot be stored so that the talk's header reads back unchanged; nothing was written"
        case .unrepresentable(let part):
            return "this turn cannot be stored so that it reads back unchanged (\(part.rawValue)); nothing was written"
        }
    }
}
