"""Every Redis key shape and Lua script the hub uses, in one place.

Cluster-ready: all keys of one provider share the hash tag ``{p<id>}``, so a script that
touches only them runs on one shard; GEO sets are sharded by a coarse H3 region cell, each
its own slot.  No script touches keys of two tags.
"""

from __future__ import annotations


class Keys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def provider(self, provider_id: int) -> str:
        """Hash: position (lat lng t rcv acc spd hdg cell region), owner (session node), duty."""
        return f"{self.prefix}:p:{{p{provider_id}}}"

    def geo(self, region: int) -> str:
        """GEO set of provider ids whose live position lies in this H3 region cell."""
        return f"{self.prefix}:geo:{{r{region:x}}}"

    def node(self, node: str) -> str:
        """String with a TTL: present while the node is alive."""
        return f"{self.prefix}:node:{node}"

    def epoch(self) -> str:
        """String: an id of the store's contents, set when first asked (Presence.epoch)."""
        return f"{self.prefix}:epoch"

    def stream(self, name: str) -> str:
        """Redis Stream of a named log (the attendance status stream)."""
        return f"{self.prefix}:stream:{{{name}}}"

    def attempts(self, key: str) -> str:
        """Hash with a TTL: a login name's or an address's failed logins (hub/throttle.py)."""
        return f"{self.prefix}:attempts:{key}"

    def channel(self, name: str) -> str:
        """Pub/sub channel of the bus."""
        return f"{self.prefix}:bus:{name}"


# KEYS[1] provider hash; ARGV session, node, opened_ms.  Returns the previous {session, node}.
CLAIM = """
local previous = redis.call('HMGET', KEYS[1], 'session', 'node')
redis.call('HSET', KEYS[1], 'session', ARGV[1], 'node', ARGV[2], 'opened', ARGV[3])
return previous
"""

# KEYS[1] provider hash; ARGV session, node, opened, duty.  A node asserting a session it
# holds after the store lost its data: the owner is set only if none is recorded (a newer
# session may have claimed the provider meanwhile), the duty only if none is.  Returns the
# owner now.
REASSERT = """
local held = redis.call('HMGET', KEYS[1], 'session', 'node')
if not held[1] then
  redis.call('HSET', KEYS[1], 'session', ARGV[1], 'node', ARGV[2], 'opened', ARGV[3])
  held = {ARGV[1], ARGV[2]}
end
redis.call('HSETNX', KEYS[1], 'duty', ARGV[4])
return held
"""

# KEYS[1] the epoch key; ARGV a fresh id.  The stored id, set to ARGV[1] if there was none.
EPOCH = """
local stored = redis.call('GET', KEYS[1])
if not stored then
  redis.call('SET', KEYS[1], ARGV[1])
  return ARGV[1]
end
return stored
"""

# KEYS[1] a key's failed-login tally; ARGV now, attempts, lockout_ms, window_ms,
# max_lockout_ms, kept_ms.  hub/throttle.py after_failure, in Lua (tests/state/
# test_live_contract.py holds both to the same figures); the tally is forgotten kept_ms
# after its last failure.
FAILED = """
local now = tonumber(ARGV[1])
local t = redis.call('HMGET', KEYS[1], 'failures', 'first', 'until', 'lockouts')
local failures = tonumber(t[1]) or 0
local first = tonumber(t[2]) or now
local locked = tonumber(t[3]) or 0
local lockouts = tonumber(t[4]) or 0
if now - first > tonumber(ARGV[4]) then
  failures = 0
  first = now
end
if failures + 1 < tonumber(ARGV[2]) then
  failures = failures + 1
else
  locked = now + math.min(tonumber(ARGV[3]) * 2 ^ lockouts, tonumber(ARGV[5]))
  failures = 0
  first = now
  lockouts = lockouts + 1
end
local function int(x) return string.format('%.0f', x) end
redis.call('HSET', KEYS[1], 'failures', int(failures), 'first', int(first),
  'until', int(locked), 'lockouts', int(lockouts))
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return int(locked)
"""

# KEYS[1] provider hash; ARGV session.  Clears the owner only if it is still that session.
RELEASE = """
if redis.call('HGET', KEYS[1], 'session') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'session', 'node', 'opened')
  return 1
end
return 0
"""

# KEYS[1] provider hash; ARGV t, lat, lng, rcv, acc, spd, hdg, cell, region.
# Writes the position only if its device time is newer than the stored one (a late flush
# from a replaced session on another node must not move the provider back).  Returns nil
# when not applied, else the region the provider was in before ('' if none).
MOVE = """
local stored = tonumber(redis.call('HGET', KEYS[1], 't') or '-1')
if tonumber(ARGV[1]) <= stored then
  return false
end
local previous = redis.call('HGET', KEYS[1], 'region') or ''
redis.call('HSET', KEYS[1], 't', ARGV[1], 'lat', ARGV[2], 'lng', ARGV[3], 'rcv', ARGV[4],
  'acc', ARGV[5], 'spd', ARGV[6], 'hdg', ARGV[7], 'cell', ARGV[8], 'region', ARGV[9])
return previous
"""

# KEYS[1] stream; ARGV payload, kept, floor.  Appends with the id "0-<n>", n one more than
# the newest entry's, trimming to ``kept``; returns n.  Consecutive ids let a reader tell
# exactly whether entries after its offset were trimmed.  An empty stream (a Redis that
# came back empty) starts at ``floor``, the appending node's newest offset + 1, so the
# offsets the nodes and consoles hold stay valid.
STREAM_APPEND = """
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local n = tonumber(ARGV[3])
if top[1] then n = tonumber(string.match(top[1][1], '-(%d+)$')) + 1 end
redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], '0-' .. n, 'd', ARGV[1])
return n
"""
