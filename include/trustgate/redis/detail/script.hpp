// The Lua script that counts one token attempt and locks the client out, atomically, in
// one round trip (SPEC §12). It is SCRIPT LOADed once per connection and run by EVALSHA.
//
// The same sliding window as attempt_limiter (SPEC §6): failures are members of a sorted
// set scored by their time in milliseconds; those at least a window old are forgotten;
// the max-th failure within the window deletes the set and writes the lockout's end
// under the lock key. Expiries (window for the set, lockout for the lock) only collect
// the keys: the decision compares the stored times, so a test can run it on its own clock.
#pragma once

#include <string_view>

namespace trustgate::redis::detail {

// KEYS[1] failures, KEYS[2] lockout end.
// ARGV[1] "1" when the token matched, ARGV[2] max attempts, ARGV[3] window ms,
// ARGV[4] lockout ms, ARGV[5] now in ms or "" for the server's clock, ARGV[6] a member
// name unique to this attempt.
// Returns {0, 0} open (counted or cleared), {1, ms left} locked, {2, lockout ms} this
// failure started a lockout.
inline constexpr std::string_view attempt_script = R"lua(
local now = tonumber(ARGV[5])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local locked_until = tonumber(redis.call('GET', KEYS[2]))
if locked_until and locked_until > now then return {1, locked_until - now} end
if ARGV[1] == '1' then
  redis.call('DEL', KEYS[1], KEYS[2])
  return {0, 0}
end
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[6])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local lockout = tonumber(ARGV[4])
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], string.format('%d', now + lockout), 'PX', lockout)
  return {2, lockout}
end
redis.call('PEXPIRE', KEYS[1], window)
return {0, 0}
)lua";

}  // namespace trustgate::redis::detail
