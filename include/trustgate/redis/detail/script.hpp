// The Lua script that counts one token attempt and locks the client out, atomically, in
// one round trip (behaviour §12). It is SCRIPT LOADed once per connection and run by EVALSHA.
//
// The same sliding window as attempt_limiter (behaviour §6): failures are members of a sorted
// set scored by their time in milliseconds; those at least a window old are forgotten;
// the max-th failure within the window deletes the set and writes the lockout's end
// under the lock key. Expiries (window for the set, lockout for the lock) only collect
// the keys: the decision compares the stored times, so a test can run it on its own clock.
#pragma once

#include <string_view>

namespace trustgate::redis::detail {

// KEYS[1] the client's failures, KEYS[2] its lockout's end; KEYS[3] and KEYS[4] the same
// for all clients together (the global ceiling, behaviour §6).
// ARGV[1] "1" when the token matched, ARGV[2] max attempts, ARGV[3] window ms,
// ARGV[4] lockout ms, ARGV[5] now in ms or "" for the server's clock, ARGV[6] a member
// name unique to this attempt, ARGV[7] the global ceiling ("0": off).
// Returns {status, ms, global ms}: {0, 0, 0} open (counted or cleared); {1, ms left,
// global lock's ms left} locked; {2, the client's new lock ms or 0, the global one's or
// 0} this failure started a lockout.
inline constexpr std::string_view attempt_script = R"lua(
local now = tonumber(ARGV[5])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function left(lock)
  local locked_until = tonumber(redis.call('GET', lock))
  if locked_until and locked_until > now then return locked_until - now end
  return 0
end
local key_left, global_left = left(KEYS[2]), left(KEYS[4])
if key_left > 0 or global_left > 0 then return {1, math.max(key_left, global_left), global_left} end
if ARGV[1] == '1' then
  redis.call('DEL', KEYS[1], KEYS[2])
  return {0, 0, 0}
end
local window, lockout = tonumber(ARGV[3]), tonumber(ARGV[4])
local function count(failures, lock, limit)
  redis.call('ZREMRANGEBYSCORE', failures, '-inf', now - window)
  redis.call('ZADD', failures, now, ARGV[6])
  if redis.call('ZCARD', failures) < limit then
    redis.call('PEXPIRE', failures, window)
    return 0
  end
  redis.call('DEL', failures)
  redis.call('SET', lock, string.format('%d', now + lockout), 'PX', lockout)
  return lockout
end
local key_ms = count(KEYS[1], KEYS[2], tonumber(ARGV[2]))
local global_ms = 0
if tonumber(ARGV[7]) > 0 then global_ms = count(KEYS[3], KEYS[4], tonumber(ARGV[7])) end
if key_ms > 0 or global_ms > 0 then return {2, key_ms, global_ms} end
return {0, 0, 0}
)lua";

}  // namespace trustgate::redis::detail
