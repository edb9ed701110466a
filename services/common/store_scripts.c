/* store_scripts.c — the Lua scripts that make every case write atomic.
 *
 * REPORT registers a new case (or finds it by idempotency key).
 *   KEYS: idem, case, timeline, q:classify, cases index, stats
 *   ARGV: case id, doc, now_ms, timeline entry, has_idem ("1"/"0")
 *   → {1, id} created | {0, existing id} (also when this very call is retried)
 *
 * COMMIT applies one guarded transition computed by the caller.
 *   KEYS: case, timeline, action ids set, stats, then any keys the ops name
 *   ARGV: expected version ("" = any), allowed states ("A,B" or "*"), new doc,
 *         new state, timeline entry ("" = none), action id ("" = none),
 *         guard ("" or "Z:<key index>:<member>": that sorted-set member must be
 *         removed by this call, so a timer or queue entry is consumed once),
 *         stored action result, then ops:
 *           ZADD k score member | ZREM k member | HINCRBY k field n | SET k value |
 *           SADD k member | RPUSH k value | GEOADD k lon lat member
 *         where k is a KEYS index (1-based).
 *   → {1, new version} | {0, reason, state, version} | {2, stored result}
 */
#include "store.h"

static const char s_report[] =
    "if redis.call('EXISTS', KEYS[2]) == 1 then return {0, ARGV[1]} end\n"
    "if ARGV[5] == '1' then\n"
    "  local ex = redis.call('GET', KEYS[1])\n"
    "  if ex then return {0, ex} end\n"
    "end\n"
    "redis.call('HSET', KEYS[2], 'doc', ARGV[2], 'state', 'REPORTED', 'version', 1)\n"
    "redis.call('RPUSH', KEYS[3], ARGV[4])\n"
    "redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])\n"
    "redis.call('ZADD', KEYS[5], ARGV[3], ARGV[1])\n"
    "redis.call('HINCRBY', KEYS[6], 'reported', 1)\n"
    "redis.call('HINCRBY', KEYS[6], 'state:REPORTED', 1)\n"
    "if ARGV[5] == '1' then redis.call('SET', KEYS[1], ARGV[1]) end\n"
    "return {1, ARGV[1]}\n";

static const char s_commit[] =
    "local cur = redis.call('HMGET', KEYS[1], 'state', 'version')\n"
    "if not cur[1] then return {0, 'missing', '', '0'} end\n"
    "if ARGV[6] ~= '' then\n"
    "  local prev = redis.call('HGET', KEYS[3], ARGV[6])\n"
    "  if prev then return {2, prev} end\n"
    "end\n"
    "if ARGV[1] ~= '' and ARGV[1] ~= cur[2] then return {0, 'version', cur[1], cur[2]} end\n"
    "if ARGV[2] ~= '*' then\n"
    "  local ok = false\n"
    "  for s in string.gmatch(ARGV[2], '[^,]+') do if s == cur[1] then ok = true end end\n"
    "  if not ok then return {0, 'state', cur[1], cur[2]} end\n"
    "end\n"
    "if ARGV[7] ~= '' then\n"
    "  local ki, member = string.match(ARGV[7], '^Z:(%d+):(.*)$')\n"
    "  if redis.call('ZREM', KEYS[tonumber(ki)], member) == 0 then\n"
    "    return {0, 'guard', cur[1], cur[2]}\n"
    "  end\n"
    "end\n"
    "local v = tonumber(cur[2]) + 1\n"
    "redis.call('HSET', KEYS[1], 'doc', ARGV[3], 'state', ARGV[4], 'version', v)\n"
    "if ARGV[5] ~= '' then redis.call('RPUSH', KEYS[2], ARGV[5]) end\n"
    "if ARGV[6] ~= '' then\n"
    "  redis.call('HSET', KEYS[3], ARGV[6], ARGV[8])\n"
    "end\n"
    "if ARGV[4] ~= cur[1] then\n"
    "  redis.call('HINCRBY', KEYS[4], 'state:' .. cur[1], -1)\n"
    "  redis.call('HINCRBY', KEYS[4], 'state:' .. ARGV[4], 1)\n"
    "end\n"
    "local i = 9\n"
    "while i <= #ARGV do\n"
    "  local op = ARGV[i]\n"
    "  local k = KEYS[tonumber(ARGV[i + 1])]\n"
    "  if op == 'ZADD' then redis.call('ZADD', k, ARGV[i + 2], ARGV[i + 3]); i = i + 4\n"
    "  elseif op == 'ZREM' then redis.call('ZREM', k, ARGV[i + 2]); i = i + 3\n"
    "  elseif op == 'HINCRBY' then redis.call('HINCRBY', k, ARGV[i + 2], ARGV[i + 3]); i = i + 4\n"
    "  elseif op == 'SET' then redis.call('SET', k, ARGV[i + 2]); i = i + 3\n"
    "  elseif op == 'SADD' then redis.call('SADD', k, ARGV[i + 2]); i = i + 3\n"
    "  elseif op == 'RPUSH' then redis.call('RPUSH', k, ARGV[i + 2]); i = i + 3\n"
    "  elseif op == 'GEOADD' then redis.call('GEOADD', k, ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]); i = i + 5\n"
    "  else return redis.error_reply('COMMIT unknown op ' .. tostring(op)) end\n"
    "end\n"
    "return {1, tostring(v)}\n";

const char *
yx_store_script_source (yx_script_t script)
{
    switch (script) {
    case YX_SCRIPT_REPORT:
        return s_report;
    case YX_SCRIPT_COMMIT:
        return s_commit;
    default:
        return "";
    }
}
