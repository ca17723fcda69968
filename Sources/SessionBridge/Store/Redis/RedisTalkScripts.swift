/// The Lua scripts of the Redis talk engine. Each change to a talk is one script, which Redis runs alone: the
/// turn-taking check and the write are one atomic step, so of any number of speakers racing for a turn (on any
/// hosts) exactly one wins it. The scripts apply the rules of `TalkRules`, in the same order and with the same
/// outcomes (`RedisTalkStoreTests` checks that both agree on every class of state and request), and the size limit
/// of the file engine: they compute the size the talk's markdown would have, from the byte counts kept with it.
///
/// A talk is a hash (`t:<id>`: the header's fields, `participants` as a JSON array, absent optional fields for
/// nil, `fixed` the rendered header's bytes that no change alters, `body` the rendered turns' bytes, `token` the
/// creator's), a list of turns (`t:<id>:turns`, JSON without the number: a turn's number is its place), a hash
/// of nonces to turn numbers (`t:<id>:nonces`: a retried `say` is the turn already stored) and an event stream
/// (`t:<id>:events`) that `talk wait` blocks on. Every key is passed in KEYS.
enum RedisTalkScripts {
    /// Shared helpers: the length of a value as `Conversation.quote` renders it (4 for null), membership, the
    /// header's decoded participants (nil when the stored value is not a list of names) and the known statuses.
    static let prelude = #"""
    local function qlen(s)
      if not s then return 4 end
      local _, one = string.gsub(s, '[\\"\n\r\t]', '')
      local _, five = string.gsub(s, '[%z\1-\8\11\12\14-\31\127]', '')
      return #s + 2 + one + 5 * five
    end
    local function place(list, name)
      for i, v in ipairs(list) do if v == name then return i end end
      return nil
    end
    local function people(json)
      local ok, list = pcall(cjson.decode, json or '')
      if not ok or type(list) ~= 'table' or #list == 0 then return nil end
      for _, v in ipairs(list) do if type(v) ~= 'string' then return nil end end
      return list
    end
    local statuses = {ACTIVE = true, RESOLVED = true, BLOCKED = true}
    """#

    /// KEYS: header, index, talk events, all events. ARGV: token, id, then the header's field/value pairs.
    /// Returns 'created', 'again' (this token's create already ran: a retried request) or 'taken'.
    static let create = #"""
    if redis.call('EXISTS', KEYS[1]) == 1 then
      if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then return 'again' end
      return 'taken'
    end
    redis.call('HSET', KEYS[1], 'token', ARGV[1], unpack(ARGV, 3))
    redis.call('ZADD', KEYS[2], 0, ARGV[2])
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', 64, '*', 'c', 'new')
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', 256, '*', 't', ARGV[2])
    return 'created'
    """#

    /// KEYS: header, turns, nonces, talk events, all events.
    /// ARGV: speaker, has next ('1'/'0'), next, has expected ('1'/'0'), expected, nonce, at, turn JSON,
    ///       the turn block's bytes without its number (which it holds twice), the size limit, id.
    /// Returns {'ok', number, header} | {'dup', number, turn JSON, header} | {'unknown'} | {'damaged', what} |
    ///         {'tooLarge', size} | a refusal: {'closed', status, reason}, {'notParticipant', who, participants},
    ///         {'notYourTurn', who, next}, {'nextNotParticipant', next, participants}, {'turnTaken', expected, actual}.
    static let append = prelude + #"""
    if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
    local seen = redis.call('HGET', KEYS[3], ARGV[6])
    if seen then
      return {'dup', tonumber(seen), redis.call('LINDEX', KEYS[2], tonumber(seen) - 1) or '', redis.call('HGETALL', KEYS[1])}
    end
    local f = redis.call('HMGET', KEYS[1], 'status', 'participants', 'nextSpeaker', 'maxTurns', 'resolution', 'blockedReason', 'fixed', 'body')
    local list = people(f[2])
    local maxTurns, fixed, body = tonumber(f[4]), tonumber(f[7]), tonumber(f[8])
    if not list then return {'damaged', 'participants'} end
    if not statuses[f[1]] or not f[3] or not maxTurns or not fixed or not body then return {'damaged', 'header'} end
    local me = ARGV[1]
    if f[1] ~= 'ACTIVE' then return {'closed', f[1], f[6]} end
    local mine = place(list, me)
    if not mine then return {'notParticipant', me, f[2]} end
    if f[3] ~= me then return {'notYourTurn', me, f[3]} end
    if ARGV[2] == '1' and not place(list, ARGV[3]) then return {'nextNotParticipant', ARGV[3], f[2]} end
    local number = redis.call('LLEN', KEYS[2]) + 1
    if ARGV[4] == '1' and tonumber(ARGV[5]) ~= number then return {'turnTaken', ARGV[5], number} end
    local nextSpeaker = list[(mine % #list) + 1]
    if ARGV[2] == '1' then nextSpeaker = ARGV[3] end
    local status, reason = 'ACTIVE', f[6]
    if number >= maxTurns then status = 'BLOCKED'; reason = 'max turns reached' end
    local digits = #tostring(number)
    local block = tonumber(ARGV[9]) + 2 * digits
    local size = fixed + #status + digits + qlen(nextSpeaker) + qlen(ARGV[7]) + qlen(f[5]) + qlen(reason) + body + block
    if size > tonumber(ARGV[10]) then return {'tooLarge', size} end
    redis.call('RPUSH', KEYS[2], ARGV[8])
    redis.call('HSET', KEYS[3], ARGV[6], number)
    redis.call('HSET', KEYS[1], 'turnCount', number, 'updatedAt', ARGV[7], 'nextSpeaker', nextSpeaker, 'status', status, 'body', body + block)
    if reason then redis.call('HSET', KEYS[1], 'blockedReason', reason) end
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', 64, '*', 'n', number)
    redis.call('XADD', KEYS[5], 'MAXLEN', '~', 256, '*', 't', ARGV[11])
    return {'ok', number, redis.call('HGETALL', KEYS[1])}
    """#

    /// KEYS: header, talk events, all events. ARGV: 'resolve' or 'block', by, has text ('1'/'0'), text, at,
    /// the size limit, id.
    /// Returns {'ok', header} | {'unknown'} | {'damaged', what} | {'tooLarge', size} | a refusal:
    ///         {'notParticipant', who, participants}, {'alreadyResolved'}, {'notActive', status}.
    static let close = prelude + #"""
    if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
    local f = redis.call('HMGET', KEYS[1], 'status', 'participants', 'nextSpeaker', 'turnCount', 'resolution', 'blockedReason', 'fixed', 'body')
    local list = people(f[2])
    local fixed, body = tonumber(f[7]), tonumber(f[8])
    if not list then return {'damaged', 'participants'} end
    if not statuses[f[1]] or not f[3] or not tonumber(f[4]) or not fixed or not body then return {'damaged', 'header'} end
    local by = ARGV[2]
    if not place(list, by) then return {'notParticipant', by, f[2]} end
    local status, resolution, reason = f[1], f[5], f[6]
    if ARGV[1] == 'resolve' then
      if status == 'RESOLVED' then return {'alreadyResolved'} end
      status = 'RESOLVED'
      if ARGV[3] == '1' then resolution = ARGV[4] else resolution = 'resolved by ' .. by end
    else
      if status ~= 'ACTIVE' then return {'notActive', status} end
      status = 'BLOCKED'
      reason = ARGV[4]
    end
    local size = fixed + #status + #f[4] + qlen(f[3]) + qlen(ARGV[5]) + qlen(resolution) + qlen(reason) + body
    if size > tonumber(ARGV[6]) then return {'tooLarge', size} end
    redis.call('HSET', KEYS[1], 'status', status, 'updatedAt', ARGV[5])
    if resolution then redis.call('HSET', KEYS[1], 'resolution', resolution) end
    if reason then redis.call('HSET', KEYS[1], 'blockedReason', reason) end
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', 64, '*', 'c', status)
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', 256, '*', 't', ARGV[7])
    return {'ok', redis.call('HGETALL', KEYS[1])}
    """#

    /// KEYS: header, turns. ARGV: the index of the first turn wanted (0-based). One consistent view:
    /// false for an unknown talk, else {header, turns held, turns from the index}.
    static let read = #"""
    if redis.call('EXISTS', KEYS[1]) == 0 then return false end
    return {redis.call('HGETALL', KEYS[1]), redis.call('LLEN', KEYS[2]), redis.call('LRANGE', KEYS[2], ARGV[1], -1)}
    """#
}
