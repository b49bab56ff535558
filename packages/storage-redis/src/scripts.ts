import { createHash } from "node:crypto";
import type { RedisClient } from "./client.js";

/**
 * Every write is one Lua script, so Redis runs it whole with nothing in
 * between: that is what makes createRun, appendStep and deleteRun atomic,
 * also between processes. Scripts touch only the keys they are given, all
 * of one workflow's hash tag, so they run on Redis Cluster too. Records
 * travel as opaque JSON text: Lua never decodes them (cjson has depth limits
 * and would not give back the same bytes); the few fields a script decides
 * on (step number, status, time) come as separate arguments.
 *
 * Run scripts get KEYS = RunKeys: run hash, all-runs index, expiry index,
 * then the four status indexes (running, waiting_for_input, completed, failed).
 */
const PRELUDE = `
local STATUS_KEY = { running = 4, waiting_for_input = 5, completed = 6, failed = 7 }

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function int(n)
  return string.format('%.0f', n)
end

-- Drops a member from the six index keys starting at KEYS[first].
local function forget(member, first)
  for i = first, first + 5 do redis.call('ZREM', KEYS[i], member) end
end

-- Expires the run ttl ms from now (or never), records that in the expiry
-- index, drops a few index entries of runs that have expired since, and lets
-- the indexes expire with the last run when every run of the workflow has a
-- TTL, so a retention-only workload leaves nothing behind.
local function retain(member, ttl)
  local now = now_ms()
  if ttl > 0 then
    local deadline = int(now + ttl)
    redis.call('HSET', KEYS[1], 'timed', '1')
    redis.call('PEXPIREAT', KEYS[1], deadline)
    redis.call('ZADD', KEYS[3], deadline, member)
  else
    redis.call('HDEL', KEYS[1], 'timed')
    redis.call('PERSIST', KEYS[1])
    redis.call('ZREM', KEYS[3], member)
  end
  local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. int(now), 'LIMIT', 0, 16)
  for _, gone in ipairs(expired) do forget(gone, 2) end
  local timed = redis.call('ZCARD', KEYS[3])
  if timed > 0 and timed == redis.call('ZCARD', KEYS[2]) then
    local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')[2]
    for i = 2, 7 do redis.call('PEXPIREAT', KEYS[i], last) end
  elseif redis.call('PTTL', KEYS[2]) >= 0 then
    for i = 2, 7 do redis.call('PERSIST', KEYS[i]) end
  end
end
`;

/** A Lua script run by SHA, loaded on first use (EVALSHA, then EVAL on NOSCRIPT). */
export class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(body: string) {
    this.#source = PRELUDE + body;
    this.#sha = createHash("sha1").update(this.#source).digest("hex");
  }

  async run(
    client: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await client.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw error;
      return client.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}

/**
 * createRun. ARGV: index member, run JSON, first step number, step JSON,
 * status, updatedAt, ttl ms (0: none). Returns 1, or 0 if the run exists.
 * Forgetting the member first clears what an expired namesake may have left
 * in another status index.
 */
export const CREATE_RUN = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local status_key = STATUS_KEY[ARGV[5]]
if not status_key then return redis.error_reply('ERR unknown run status') end
redis.call('HSET', KEYS[1], 'run', ARGV[2], 'head', ARGV[3], 'first', ARGV[3],
  'status', ARGV[5], 'updatedAt', ARGV[6], 'member', ARGV[1], ARGV[3], ARGV[4])
forget(ARGV[1], 2)
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[status_key], 0, ARGV[1])
retain(ARGV[1], tonumber(ARGV[7]))
return 1
`);

/**
 * appendStep: the conditional append. ARGV: step number, step JSON, status,
 * updatedAt, ttl ms. Returns {2} when stored, {1, head} when the head is not
 * step - 1 (nothing written), {0} when the run does not exist.
 */
export const APPEND_STEP = new LuaScript(`
local run = redis.call('HMGET', KEYS[1], 'head', 'status', 'member', 'timed')
if not run[1] then return {0} end
if tonumber(run[1]) + 1 ~= tonumber(ARGV[1]) then return {1, run[1]} end
local status_key = STATUS_KEY[ARGV[3]]
if not status_key then return redis.error_reply('ERR unknown run status') end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], 'head', ARGV[1], 'status', ARGV[3], 'updatedAt', ARGV[4])
if run[2] ~= ARGV[3] then
  local old_key = STATUS_KEY[run[2]]
  if old_key then redis.call('ZREM', KEYS[old_key], run[3]) end
  redis.call('ZADD', KEYS[status_key], 0, run[3])
end
-- A permanent run appended to by a store without retention has nothing to
-- expire or refresh: skipping retain() keeps the hot path to two commands.
local ttl = tonumber(ARGV[5])
if ttl > 0 or run[4] then retain(run[3], ttl) end
return {2}
`);

/**
 * deleteRun. Returns -1 if the run does not exist, else how many runs the
 * workflow's index still holds. UNLINK frees a long run's hash off the main
 * thread.
 */
export const DELETE_RUN = new LuaScript(`
local member = redis.call('HGET', KEYS[1], 'member')
if not member then return -1 end
redis.call('UNLINK', KEYS[1])
forget(member, 2)
return redis.call('ZCARD', KEYS[2])
`);

/** getLatestStep in one round trip: {head, step JSON}, {head} if the record is missing, nil if no run. */
export const LATEST_STEP = new LuaScript(`
local head = redis.call('HGET', KEYS[1], 'head')
if not head then return false end
return {head, redis.call('HGET', KEYS[1], head)}
`);

/**
 * listSteps: a run stores the contiguous steps first..head, so a page is one
 * HMGET of consecutive fields. ARGV: last step of the previous page (-1:
 * none), page size. Returns {head, first step of the page, records...}
 * (a missing record as nil), or nil if no run.
 */
export const LIST_STEPS = new LuaScript(`
local run = redis.call('HMGET', KEYS[1], 'head', 'first')
if not run[1] then return false end
local head = tonumber(run[1])
local from = math.max(tonumber(run[2]) or 0, tonumber(ARGV[1]) + 1)
local to = math.min(head, from + tonumber(ARGV[2]) - 1)
local reply = {run[1], int(from)}
if from <= to then
  local fields = {}
  for n = from, to do fields[#fields + 1] = int(n) end
  for _, record in ipairs(redis.call('HMGET', KEYS[1], unpack(fields))) do
    reply[#reply + 1] = record
  end
end
return reply
`);

/**
 * Drops an index entry whose run is gone (expired) or was created again with
 * another creation time. ARGV: member. Checked here, atomically, so an entry
 * of a run re-created meanwhile is kept. Returns 1 if dropped.
 */
export const DROP_STALE_ENTRY = new LuaScript(`
if redis.call('HGET', KEYS[1], 'member') == ARGV[1] then return 0 end
forget(ARGV[1], 2)
return 1
`);

/**
 * How many live runs a workflow has: entries of its all-runs index minus
 * those past their expiry, dropping a bounded batch of the latter on the way.
 * KEYS = the six index keys (RunKeys without the run).
 */
export const LIVE_RUNS = new LuaScript(`
local bound = '(' .. int(now_ms())
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', bound, 'LIMIT', 0, 100)) do
  forget(gone, 1)
end
return redis.call('ZCARD', KEYS[1]) - redis.call('ZCOUNT', KEYS[2], '-inf', bound)
`);
