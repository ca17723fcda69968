/// Wakes the right terminal when a session has a message waiting or its turn comes in a talk: it types one short
/// prompt into the pane that `launch` recorded for the session's alias. One watcher per machine and store.
///
/// Events are pending messages (per message id) and turns (per talk, turn count and next speaker). Each is injected
/// at most once, remembered across restarts in `<store>/watch/state.json`. Event-driven with inotify, polling
/// adaptively (1 s → 5 s → 10 s, back to 1 s on activity) where inotify cannot see changes; bursts are debounced.
package final class Watcher {
    package struct Event: Equatable, Sendable {
        /// What makes the event unique ("msg:<id>", "talk:<id>:<turnCount>:<nextSpeaker>"): injected at most once.
        package var keys: [String]
        package var target: WatchTarget
        package var text: String
    }

    package struct Settings: Sendable {
        package var debounceMilliseconds: Int
        package var talkPrompt: String?
        package var forcePolling: Bool
        /// An agent launched less than this long ago is not typed into yet: until its interface takes the terminal,
        /// typed keys are buffered as a line and Enter is lost (seen with Claude Code in its first second).
        package var settleMilliseconds: Int
        /// config `watcher.polling_fallback`: when false, a watcher that cannot use inotify stops instead of polling.
        package var pollingFallback: Bool = true

        package init(debounceMilliseconds: Int = 500, talkPrompt: String? = nil, forcePolling: Bool = false, settleMilliseconds: Int = 3000) {
            self.debounceMilliseconds = debounceMilliseconds
            self.talkPrompt = talkPrompt
            self.forcePolling = forcePolling
            self.settleMilliseconds = settleMilliseconds
        }
    }

    let store: any BridgeStore
    /// Held while the watcher runs (one per host and store); renewed every round.
    let lock: (any HeldLock)?
    let talks: [TalkLocation]
    /// The talk engine of the store (`Stores.talks`).
    let talkEngine: StoreFactory.TalkEngine
    let registry: TargetRegistry
    let injector: any Injector
    let settings: Settings
    let statePath: String
    var injected: [String] = []
    var injectedSet: Set<String> = []
    var reportedDead: Set<String> = []
    /// Set by processOnce when an event waits for a young agent to settle: check again after this many ms.
    package private(set) var retryAfterMilliseconds: Int?
    var log: (String) -> Void

    /// `stores.localRoot` keeps the launched targets and what was injected: both belong to this host.
    package init(stores: Stores, lock: (any HeldLock)? = nil, talks: [TalkLocation], injector: any Injector, settings: Settings,
                log: @escaping (String) -> Void) {
        self.store = stores.messages
        self.lock = lock
        // The same folder named twice (a relative path, a doubled slash, a symlink) is watched once.
        var seen: Set<String> = []
        self.talks = talks.filter { seen.insert(FileSystem.realPath($0.root) ?? $0.root).inserted }
        self.talkEngine = stores.talks
        self.registry = TargetRegistry(storeRoot: stores.localRoot)
        self.injector = injector
        self.settings = settings
        self.statePath = stores.localRoot + "/watch/state.json"
        self.log = log
        loadState()
    }

    struct State: Codable { var injected: [String] }

    func loadState() {
        guard let bytes = try? FileSystem.read(statePath, limit: 16 << 20), let s = JSONCoding.decode(State.self, from: bytes) else { return }
        injected = s.injected
        injectedSet = Set(s.injected)
    }

    func saveState() {
        if injected.count > 20_000 { injected.removeFirst(injected.count - 20_000); injectedSet = Set(injected) }
        try? FileSystem.makeDirectories(FileSystem.parentDirectory(of: statePath))
        try? AtomicFile.write(JSONCoding.encode(State(injected: injected)), to: statePath)
    }

    // MARK: Events

    /// The launched targets by the names they answer to: their alias, and the name of the bridge session whose
    /// process the launcher became (a session named "lib-2" because "lib" was taken is still found).
    func targetsByName(_ sessions: [SessionManifest]) -> [String: WatchTarget] {
        var byName: [String: WatchTarget] = [:]
        let targets = registry.all()
        for t in targets { byName[t.alias] = t }
        for m in sessions {
            if let t = targets.first(where: { $0.pid == m.pid && ($0.pidStartTime == nil || $0.pidStartTime == m.pidStartTime) }) {
                byName[m.name] = t
            }
        }
        return byName
    }

    /// What would be injected now: new events for sessions that have a launched target.
    package func pendingEvents() -> [Event] {
        let rows = ((try? store.sessionSnapshots()) ?? []).filter { !$0.manifest.isEnded }
        let targets = targetsByName(rows.map { $0.manifest })
        guard !targets.isEmpty else { return [] }
        var events: [Event] = []
        for row in rows where row.pending > 0 {
            let m = row.manifest
            guard let target = targets[m.name] else { continue }
            let waiting = ((try? store.pendingMessages(m.id)) ?? []).filter { !injectedSet.contains("msg:" + $0.id) }
            let fresh = waiting.map { $0.id }
            guard !fresh.isEmpty else { continue }
            let senders = Array(Set(waiting.compactMap { $0.message?.fromName })).sorted()
            let from = senders.isEmpty ? "a peer" : senders.joined(separator: ", ")
            let listen = HelperName.forAgents.command("listen --timeout 5")
            let text = fresh.count == 1
                ? "A message from \(from) is waiting (session-bridge): answer it; if it is not shown to you, run \(listen)"
                : "\(fresh.count) messages from \(from) are waiting (session-bridge): answer them; if they are not shown to you, run \(listen)"
            events.append(Event(keys: fresh.map { "msg:" + $0 }, target: target, text: text))
        }
        for location in talks {
            let t = Talks(location: location, environment: Environment([:]), sessionName: nil, store: talkEngine(location))
            for summary in t.list(status: .active).talks {
                let h = summary.header
                let key = "talk:\(h.id):\(h.turnCount):\(h.nextSpeaker)"
                guard let target = targets[h.nextSpeaker], !injectedSet.contains(key) else { continue }
                t.refreshMirror(h)      // the prompt names the file: a turn said on another host is in it
                events.append(Event(keys: [key], target: target, text: Watcher.talkPrompt(settings.talkPrompt, path: summary.path,
                                                                                          speaker: h.nextSpeaker, id: h.id, dir: location.root)))
            }
        }
        return events
    }

    /// The prompt for a turn; config `watcher.prompt` may use {talk}, {alias}, {id}, {dir} and {cli} (the helper).
    static func talkPrompt(_ template: String?, path: String, speaker: String, id: String, dir: String,
                           helper: HelperName = .forAgents) -> String {
        (template ?? "Read {talk} (you are '{alias}'): it is your turn in talk {id}; answer with {cli} talk say {id} --dir {dir} --as {alias} \"<your turn>\"")
            .replacing("{talk}", with: HelperName.quoteIfNeeded(path)).replacing("{alias}", with: speaker).replacing("{id}", with: id)
            .replacing("{dir}", with: HelperName.quoteIfNeeded(dir)).replacing("{cli}", with: helper.text)
    }

    /// Injects every new event once. Returns how many prompts were typed.
    @discardableResult
    package func processOnce() -> Int {
        var typed = 0
        retryAfterMilliseconds = nil
        for event in pendingEvents() where event.keys.contains(where: { !injectedSet.contains($0) }) {
            let target = event.target
            switch injector.check(target) {
            case .ready:
                if let age = Processes.ageMilliseconds(target.pid), age < settings.settleMilliseconds {
                    let wait = settings.settleMilliseconds - age
                    retryAfterMilliseconds = min(retryAfterMilliseconds ?? wait, wait)
                    continue
                }
                // Remembered before typing: a watcher killed in between must not type it again after a restart
                // (at most once; a lost prompt is better than a doubled one, and the message itself stays pending).
                let fresh = event.keys.filter { injectedSet.insert($0).inserted }
                injected.append(contentsOf: fresh)
                saveState()
                do {
                    let how = try injector.inject(event.text, into: target)
                    reportedDead.remove(target.alias)
                    typed += 1
                    let detail = how.enters == 0 ? "" : ", \(how.shown ? "shown" : "not seen") before Enter, " + (how.enters == 1 ? "1 Enter" : "\(how.enters) Enters")
                    log("injected into \(target.alias) (\(target.pane)\(detail)): \(event.text)")
                } catch {
                    for k in fresh { injectedSet.remove(k) }
                    injected.removeLast(fresh.count)
                    saveState()
                    log("could not type into \(target.alias) (\(target.pane)): \(error.message)")
                }
            case .dead(let why):
                if reportedDead.insert(target.alias).inserted { log("dead target \(target.alias): \(why); relaunch it with \(HelperName.current.command("launch"))") }
            case .busyWithOther(let why):
                log("not typing into \(target.alias): \(why)")
            }
        }
        return typed
    }

    // MARK: Loop

    /// The local folders watched beside the store: the target registry and the talk folders that exist.
    func localFolders() -> [String] {
        ([registry.folder] + talks.map { $0.conversations }).filter { FileSystem.isDirectory($0) }
    }

    /// What the change signal was made for: when it changes (a new session, a talk folder made), a new one is made.
    func watchedSet() -> [String] {
        localFolders() + ((try? store.sessionIDs()) ?? [])
    }

    func makeSignal() throws(BridgeError) -> any ChangeSignal {
        // `--poll`: the loop below polls by itself; a polling watcher of the local folders stands in for the signal.
        if settings.forcePolling { return DirectoryWatcher(paths: localFolders(), forcePolling: true, pollIntervalMilliseconds: 1000) }
        return try bridged { () throws(StoreError) in try store.changeSignal(.allInboxes, alsoWatching: localFolders()) }
    }

    /// `watch --once`: injects what is pending now, waiting (at most the settle time) for agents still starting.
    package func runOnce() -> Int {
        var typed = processOnce()
        // Each wait lets at least one more agent settle; ages only grow, so this ends within the settle time.
        for _ in 0..<32 {
            guard let wait = retryAfterMilliseconds else { break }
            Clock.sleep(milliseconds: wait + 10)
            typed += processOnce()
        }
        return typed
    }

    /// Runs until killed: wait for a change, debounce, inject.
    package func run() throws(BridgeError) -> Never {
        try? FileSystem.makeDirectories(registry.folder)
        var watched = watchedSet()
        var watcher = try makeSignal()
        if watcher.pollingReason != nil && !settings.forcePolling && !settings.pollingFallback {
            throw .io(.watcherCannotUseInotify(reason: watcher.pollingReason))
        }
        log("watching \(store.location) and \(localFolders().count) local folder(s) with \(watcher.mechanism)"
            + (watcher.pollingReason.map { " (\($0))" } ?? ""))
        var idleRounds = 0
        processOnce()
        while true {
            let woke: Bool
            if let lock, (try? lock.renew()) != true {
                throw .conflict(.watcherLostLock(store: store.location))
            }
            if watcher.pollingReason == nil {
                // Periodic rescans retry targets that were busy, and pick up folders created meanwhile; an agent that
                // is still starting is retried as soon as it has settled.
                woke = watcher.wait(timeoutMilliseconds: retryAfterMilliseconds.map { $0 + 10 } ?? 30_000)
            } else {
                let interval = idleRounds < 10 ? 1000 : (idleRounds < 30 ? 5000 : 10_000)
                Clock.sleep(milliseconds: interval)
                woke = true
            }
            // Polling already batches a burst into one round; only inotify wake-ups are debounced.
            if woke && watcher.pollingReason == nil && settings.debounceMilliseconds > 0 {
                // Let a burst settle, then drain what it queued.
                Clock.sleep(milliseconds: settings.debounceMilliseconds)
                _ = watcher.wait(timeoutMilliseconds: 0)
            }
            let typed = processOnce()
            idleRounds = typed > 0 ? 0 : idleRounds + 1
            let now = watchedSet()
            if now != watched {
                watched = now
                watcher = try makeSignal()
            }
        }
    }
}
