/// The Lua scripts of the Redis engine: every step that moves a message between states, or touches two sessions'
/// keys, runs as one script, so Redis applies it whole or not at all and one of any number of concurrent callers
/// wins. Every key a script touches is passed in KEYS (an ACL user limited to its prefix can run them).
///
/// A message's state lives in the inbox's state hash: `p` pending, `f:<claimedAt>:<delivery>` in flight, `d` done,
/// `q` quarantined. The pending and done sets are sorted sets with score 0, so they list in id order like the file
/// engine's folders; each inbox has an event stream its change signal blocks on. Scripts run by their SHA-1
/// (`RedisStore.eval`), so their text is sent once per server, not with every call.
enum RedisScripts {
    /// KEYS: sessions, msg, state, pending, sent, events, allEvents. ARGV: recipient, id, json.
    static let deliver = """
    if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return redis.error_reply('NOTFOUND') end
    if redis.call('HEXISTS', KEYS[3], ARGV[2]) == 1 then return redis.error_reply('CONFLICT') end
    redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
    redis.call('HSET', KEYS[3], ARGV[2], 'p')
    redis.call('ZADD', KEYS[4], 0, ARGV[2])
    redis.call('HSET', KEYS[5], ARGV[2], ARGV[3])
    redis.call('XADD', KEYS[6], 'MAXLEN', '~', 256, '*', 'm', ARGV[2])
    redis.call('XADD', KEYS[7], 'MAXLEN', '~', 256, '*', 's', ARGV[1])
    return 1
    """

    /// KEYS: state, pending, inflight, done, msg. ARGV: id, keep ("1"/"0"), claim record text.
    static let claim = """
    if redis.call('HGET', KEYS[1], ARGV[1]) ~= 'p' then return false end
    redis.call('ZREM', KEYS[2], ARGV[1])
    if ARGV[2] == '1' then
      redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
      redis.call('SADD', KEYS[3], ARGV[1])
    else
      redis.call('HSET', KEYS[1], ARGV[1], 'd')
      redis.call('ZADD', KEYS[4], 0, ARGV[1])
    end
    return redis.call('HGET', KEYS[5], ARGV[1]) or ''
    """

    /// KEYS: state, msg. ARGV: id, expected record, new record.
    static let redeliver = """
    if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return false end
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
    return redis.call('HGET', KEYS[2], ARGV[1]) or ''
    """

    /// KEYS: state, inflight, done. ARGV: id, expected record ('' = any claim).
    static let finish = """
    local v = redis.call('HGET', KEYS[1], ARGV[1])
    if not v then return 0 end
    if ARGV[2] == '' then
      if string.sub(v, 1, 2) ~= 'f:' then return 0 end
    elseif v ~= ARGV[2] then return 0 end
    redis.call('HSET', KEYS[1], ARGV[1], 'd')
    redis.call('SREM', KEYS[2], ARGV[1])
    redis.call('ZADD', KEYS[3], 0, ARGV[1])
    return 1
    """

    /// KEYS: state, inflight, done, receipts, senderEvents. ARGV: id, expected record, receipt json.
    static let expire = """
    if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
    redis.call('HSET', KEYS[1], ARGV[1], 'd')
    redis.call('SREM', KEYS[2], ARGV[1])
    redis.call('ZADD', KEYS[3], 0, ARGV[1])
    redis.call('RPUSH', KEYS[4], ARGV[3])
    redis.call('XADD', KEYS[5], 'MAXLEN', '~', 256, '*', 'r', ARGV[1])
    return 1
    """

    /// Publishes the reply, records the answered receipt and finishes the claim, in one step.
    /// KEYS: sessions, askerMsg, askerState, askerPending, replierSent, askerEvents, allEvents, receipts,
    ///       state, inflight, done.
    /// ARGV: asker, replyID, replyJSON, queryID, expected record, receipt json.
    static let replyAndComplete = """
    if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return redis.error_reply('NOTFOUND') end
    if redis.call('HEXISTS', KEYS[3], ARGV[2]) == 1 then return redis.error_reply('CONFLICT') end
    redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
    redis.call('HSET', KEYS[3], ARGV[2], 'p')
    redis.call('ZADD', KEYS[4], 0, ARGV[2])
    redis.call('HSET', KEYS[5], ARGV[2], ARGV[3])
    redis.call('RPUSH', KEYS[8], ARGV[6])
    redis.call('XADD', KEYS[6], 'MAXLEN', '~', 256, '*', 'm', ARGV[2])
    redis.call('XADD', KEYS[7], 'MAXLEN', '~', 256, '*', 's', ARGV[1])
    if redis.call('HGET', KEYS[9], ARGV[4]) == ARGV[5] then
      redis.call('HSET', KEYS[9], ARGV[4], 'd')
      redis.call('SREM', KEYS[10], ARGV[4])
      redis.call('ZADD', KEYS[11], 0, ARGV[4])
    end
    return 1
    """

    /// KEYS: state, pending, inflight, done, quarantine. ARGV: id, from state ('p', 'f', 'd').
    static let quarantine = """
    local v = redis.call('HGET', KEYS[1], ARGV[1])
    if not v or string.sub(v, 1, 1) ~= ARGV[2] then return 0 end
    redis.call('HSET', KEYS[1], ARGV[1], 'q')
    redis.call('ZREM', KEYS[2], ARGV[1])
    redis.call('SREM', KEYS[3], ARGV[1])
    redis.call('ZREM', KEYS[4], ARGV[1])
    redis.call('ZADD', KEYS[5], 0, ARGV[1])
    return 1
    """

    /// KEYS: pending, inflight, state. Returns {pending ids, {id, record}...}.
    static let inboxSnapshot = """
    local pending = redis.call('ZRANGE', KEYS[1], 0, -1)
    local ids = redis.call('SMEMBERS', KEYS[2])
    local claims = {}
    for _, id in ipairs(ids) do
      local v = redis.call('HGET', KEYS[3], id)
      if v then table.insert(claims, id); table.insert(claims, v) end
    end
    return {pending, claims}
    """

    /// Refreshes a registered session's heartbeat (run by nearly every command): a touch for an unknown id makes none.
    /// KEYS: manifest, heartbeat. ARGV: now (ns), ttl ms.
    static let touchHeartbeat = """
    if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2]) return 1 end
    return 0
    """

    /// KEYS: lock. ARGV: token.
    static let release = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
    return 0
    """

    /// KEYS: lock. ARGV: token, ttl ms.
    static let renew = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
    return 0
    """

    /// Every script above (tests check each one's digest against the server's).
    static let all = [deliver, claim, redeliver, finish, expire, replyAndComplete, quarantine, inboxSnapshot,
                      touchHeartbeat, release, renew]
}
