import { createHash } from "node:crypto";
import { CorruptRecordError } from "@wf/core";
import { ReplyError } from "ioredis";
import type { RedisClient } from "./client.js";
import { INDEX_COUNT, STATUS_ORDER } from "./keys.js";
import { hashFieldLocation } from "./run-hash.js";

/** Starts the error reply of a script that found damage: `<tag> <key index> <field or -> <reason>`. */
const CORRUPT_TAG = "WFCORRUPT";
const CORRUPT_REPLY = new RegExp(`${CORRUPT_TAG} (\\d+) (\\S+) (.*)$`, "s");

/**
 * Every write is one Lua script, so Redis runs it whole with nothing in
 * between: that is what makes createRun, appendStep and deleteRun atomic,
 * also between processes. Scripts touch only the keys they are given, all
 * of one workflow's hash tag, so they run on Redis Cluster too. Records
 * travel as opaque JSON text: Lua never decodes them (cjson has depth limits
 * and would not give back the same bytes); the few fields a script decides
 * on (step number, status, time) come as separate arguments.
 *
 * Scripts check what they read before they write anything: a key of another
 * type, or a bookkeeping field (`head`, `first`, `status`, `member`) that does
 * not hold what the store wrote, ends the script with a CORRUPT error reply
 * (see `corrupt` below) and nothing changed. Redis does not roll back a
 * script that fails half way, so these checks come before the first write.
 *
 * Run scripts get KEYS = RunKeys: run hash, then the workflow's index keys
 * (all runs, expiry, one per status in STATUS_ORDER). The helpers take the
 * positions of the run hash (`run`) and of the first index key (`base`) as
 * arguments rather than assuming KEYS[1] and KEYS[2], so the group append
 * can run the very same append for many runs sharing one set of indexes.
 */
const PRELUDE = `
-- Position of each status's index key after the first index key (all runs).
local STATUS_OFFSET = { ${STATUS_ORDER.map((status, i) => `${status} = ${i + 2}`).join(", ")} }
-- How many index keys a workflow has.
local INDEXES = ${INDEX_COUNT}

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function int(n)
  return string.format('%.0f', n)
end

-- What a damaged value holds, short and printable, for the error.
local function shown(value)
  if not value then return 'nothing' end
  return 'the string "' .. string.gsub(string.sub(value, 1, 40), '[^%w%p ]', '?') .. '"'
end

-- Ends a script on damage: an error reply the adapter turns into
-- CORRUPT_RECORD naming KEYS[index] and the hash field ('-': the whole key).
local function corrupt(index, field, reason)
  return redis.error_reply('${CORRUPT_TAG} ' .. index .. ' ' .. field .. ' ' .. reason)
end

-- The CORRUPT reply for the first of KEYS[from..to] that exists with a type
-- other than want ('hash', 'zset'), or nil when all are fine.
local function wrong_type(want, from, to)
  for i = from, to do
    local kind = redis.call('TYPE', KEYS[i]).ok
    if kind ~= 'none' and kind ~= want then
      return corrupt(i, '-', 'it is a ' .. kind .. ', not a ' .. want)
    end
  end
end

-- The step number a bookkeeping field holds (decimal, at most 15 digits, so
-- exact in a double), or nil.
local function step_number(text)
  if text and #text <= 15 and (text == '0' or string.find(text, '^[1-9]%d*$')) then
    return tonumber(text)
  end
end

-- HMGET of the run hash KEYS[run], or nil and the CORRUPT reply when it is not a hash.
local function run_fields(run, ...)
  local fields = redis.pcall('HMGET', KEYS[run], ...)
  if fields.err then return nil, wrong_type('hash', run, run) or redis.error_reply(fields.err) end
  return fields
end

-- The reply for a run hash without its head: none when the run does not
-- exist, CORRUPT when the hash exists but lost the field.
local function headless(run, none)
  if redis.call('EXISTS', KEYS[run]) == 0 then return none end
  return corrupt(run, 'head', 'the field is missing')
end

-- The head and first stored step of the run KEYS[1], or nil and the reply to return.
local function head_and_first()
  local run, failure = run_fields(1, 'head', 'first')
  if not run then return nil, failure end
  if not run[1] then return nil, headless(1, false) end
  local head, first = step_number(run[1]), step_number(run[2])
  if not head then return nil, corrupt(1, 'head', 'it holds ' .. shown(run[1]) .. ', not a step number') end
  if not first then return nil, corrupt(1, 'first', 'it holds ' .. shown(run[2]) .. ', not a step number') end
  if first > head then return nil, corrupt(1, 'first', 'it is above the head, ' .. run[1]) end
  return {head, first}
end

-- Drops a member from the index keys starting at KEYS[base].
local function forget(member, base)
  for i = base, base + INDEXES - 1 do redis.call('ZREM', KEYS[i], member) end
end

-- Expires the run KEYS[run] ttl ms from now (or never), records that in the
-- expiry index, drops a few index entries of runs that have expired since,
-- and lets the indexes (from KEYS[base]) expire with the last run when every
-- run of the workflow has a TTL, so a retention-only workload leaves nothing
-- behind.
local function retain(run, base, member, ttl)
  local all, expiry, last_index = KEYS[base], KEYS[base + 1], base + INDEXES - 1
  local now = now_ms()
  if ttl > 0 then
    local deadline = int(now + ttl)
    redis.call('HSET', KEYS[run], 'timed', '1')
    redis.call('PEXPIREAT', KEYS[run], deadline)
    redis.call('ZADD', expiry, deadline, member)
  else
    redis.call('HDEL', KEYS[run], 'timed')
    redis.call('PERSIST', KEYS[run])
    redis.call('ZREM', expiry, member)
  end
  local expired = redis.call('ZRANGEBYSCORE', expiry, '-inf', '(' .. int(now), 'LIMIT', 0, 16)
  for _, gone in ipairs(expired) do forget(gone, base) end
  local timed = redis.call('ZCARD', expiry)
  if timed > 0 and timed == redis.call('ZCARD', all) then
    local latest = redis.call('ZRANGE', expiry, -1, -1, 'WITHSCORES')[2]
    for i = base, last_index do redis.call('PEXPIREAT', KEYS[i], latest) end
  elseif redis.call('PTTL', all) >= 0 then
    for i = base, last_index do redis.call('PERSIST', KEYS[i]) end
  end
end

-- The conditional append of step n to the run KEYS[run], whose workflow's
-- index keys start at KEYS[base]. Returns {2} when stored, {1, head} when
-- the head is not n - 1 (nothing written), {0} when the run does not exist,
-- or an error reply (CORRUPT, or an unknown status) with nothing written.
-- The checks of the hot path are a table lookup and a pattern match on
-- fields it reads anyway; key types are checked only where it goes on to
-- write them.
local function append_step(run, base, n, json, status, updated_at, ttl)
  local fields, failure = run_fields(run, 'head', 'status', 'member', 'timed')
  if not fields then return failure end
  if not fields[1] then return headless(run, {0}) end
  local head = step_number(fields[1])
  if not head then return corrupt(run, 'head', 'it holds ' .. shown(fields[1]) .. ', not a step number') end
  local old_offset = STATUS_OFFSET[fields[2]]
  if not old_offset then return corrupt(run, 'status', 'it holds ' .. shown(fields[2]) .. ', not a run status') end
  if not fields[3] then return corrupt(run, 'member', 'the field is missing') end
  if head + 1 ~= tonumber(n) then return {1, fields[1]} end
  local new_offset = STATUS_OFFSET[status]
  if not new_offset then return redis.error_reply('ERR unknown run status') end
  local old_key, new_key = base + old_offset, base + new_offset
  -- A permanent run appended to by a store without retention has nothing to
  -- expire or refresh: skipping retain() keeps the hot path to two commands.
  local retaining = ttl > 0 or fields[4]
  local damaged
  if retaining then
    damaged = wrong_type('zset', base, base + INDEXES - 1)
  elseif fields[2] ~= status then
    damaged = wrong_type('zset', old_key, old_key) or wrong_type('zset', new_key, new_key)
  end
  if damaged then return damaged end
  redis.call('HSET', KEYS[run], n, json, 'head', n, 'status', status, 'updatedAt', updated_at)
  if fields[2] ~= status then
    redis.call('ZREM', KEYS[old_key], fields[3])
    redis.call('ZADD', KEYS[new_key], 0, fields[3])
  end
  if retaining then retain(run, base, fields[3], ttl) end
  return {2}
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

  /** The script's reply; CORRUPT_RECORD naming the key (and field) when it found damage. */
  async run(
    client: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      try {
        return await client.evalsha(this.#sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw error;
        return await client.eval(this.#source, keys.length, ...keys, ...args);
      }
    } catch (error) {
      throw scriptError(error, keys);
    }
  }
}

/**
 * What an error reply of a script means: CORRUPT_RECORD naming the key (and
 * field) when the script found damage, else the error itself.
 */
function scriptError(error: unknown, keys: readonly string[]): unknown {
  const [, index, field, reason] = CORRUPT_REPLY.exec(String((error as Error)?.message)) ?? [];
  const key = keys[Number(index) - 1];
  if (key === undefined || field === undefined || reason === undefined) return error;
  return new CorruptRecordError(field === "-" ? key : hashFieldLocation(key, field), reason);
}

/**
 * createRun. ARGV: index member, run JSON, first step number, step JSON,
 * status, updatedAt, ttl ms (0: none). Returns 1, or 0 if the run exists.
 * Forgetting the member first clears what an expired namesake may have left
 * in another status index.
 */
export const CREATE_RUN = new LuaScript(`
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'hash' then return 0 end
local damaged = wrong_type('hash', 1, 1) or wrong_type('zset', 2, INDEXES + 1)
if damaged then return damaged end
local offset = STATUS_OFFSET[ARGV[5]]
if not offset then return redis.error_reply('ERR unknown run status') end
redis.call('HSET', KEYS[1], 'run', ARGV[2], 'head', ARGV[3], 'first', ARGV[3],
  'status', ARGV[5], 'updatedAt', ARGV[6], 'member', ARGV[1], ARGV[3], ARGV[4])
forget(ARGV[1], 2)
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[2 + offset], 0, ARGV[1])
retain(1, 2, ARGV[1], tonumber(ARGV[7]))
return 1
`);

/**
 * appendStep: the conditional append (`append_step` above). KEYS = RunKeys;
 * ARGV: step number, step JSON, status, updatedAt, ttl ms.
 */
export const APPEND_STEP = new LuaScript(`
return append_step(1, 2, ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]))
`);

/** ARGV of each append in APPEND_STEPS, after the shared ttl. */
const ARGS_PER_APPEND = 4;

/**
 * Group commit: appends to several runs of one workflow in one script call,
 * each the same conditional append as APPEND_STEP, one after the other, so
 * the group behaves as the same appends sent one by one. KEYS: the
 * workflow's index keys, then one run hash per append. ARGV: ttl ms, then
 * per append its step number, step JSON, status and updatedAt. Replies one
 * outcome per append, in order: APPEND_STEP's reply, or {3, message} for an
 * error reply, so damage on one run fails that append alone.
 */
const APPEND_STEPS = new LuaScript(`
local ttl = tonumber(ARGV[1])
local outcomes = {}
for i = 1, #KEYS - INDEXES do
  local at = 1 + (i - 1) * ${ARGS_PER_APPEND}
  local outcome = append_step(INDEXES + i, 1, ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], ARGV[at + 4], ttl)
  if outcome.err then outcome = {3, outcome.err} end
  outcomes[i] = outcome
end
return outcomes
`);

/** ioredis's class of error replies (typed `any` there), which toStorageError recognises. */
const ReplyErrorClass = ReplyError as new (message: string) => Error;

/** One append of a group: its run's hash key and its ARGV. */
export interface GroupedAppend {
  runKey: string;
  step: string;
  json: string;
  status: string;
  updatedAt: string;
}

/** What APPEND_STEP replies for one append: {2} stored, {1, head} conflict, {0} no run. */
export type AppendReply = [number, string?];

/**
 * Runs APPEND_STEPS: one script call, one outcome per append (a reply, or
 * the error of that append alone). All runs belong to the workflow whose
 * index keys are `indexKeys`, so on Cluster every key shares one slot. An
 * error of the whole call (connection, timeout) rejects.
 */
export async function appendSteps(
  client: RedisClient,
  indexKeys: readonly string[],
  appends: readonly GroupedAppend[],
  ttlMs: number,
): Promise<(AppendReply | Error)[]> {
  const keys = [...indexKeys, ...appends.map((append) => append.runKey)];
  const args: (string | number)[] = [ttlMs];
  for (const { step, json, status, updatedAt } of appends) args.push(step, json, status, updatedAt);
  const replies = (await APPEND_STEPS.run(client, keys, args)) as [number, string?][];
  return replies.map((reply) => {
    if (reply[0] !== 3) return reply;
    // The error reply it would have been alone, so it maps to the same error.
    return scriptError(new ReplyErrorClass(String(reply[1])), keys) as Error;
  });
}

/**
 * deleteRun, of a healthy or a damaged run: whatever is at the run's key
 * goes, with its index entries. ARGV: a ZSCAN pattern matching the index
 * members of this run id, then the run id's part of a member. The pattern
 * finds the entries when the run's own `member` field is missing or
 * damaged, at a cost that grows with the workflow's runs; a healthy run's
 * delete never scans. Returns -1 if the run does not exist, else how many runs the
 * workflow's index still holds. UNLINK frees a long run's hash off the main
 * thread.
 */
export const DELETE_RUN = new LuaScript(`
local damaged = wrong_type('zset', 2, INDEXES + 1)
if damaged then return damaged end
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then return -1 end
local member = kind == 'hash' and redis.call('HGET', KEYS[1], 'member')
redis.call('UNLINK', KEYS[1])
-- A member of this run ends with its id part after the creation time's end.
if member and string.sub(member, -#ARGV[2] - 1) == '\\0' .. ARGV[2] then
  forget(member, 2)
else
  local cursor = '0'
  repeat
    local page = redis.call('ZSCAN', KEYS[2], cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
    cursor = page[1]
    for i = 1, #page[2], 2 do forget(page[2][i], 2) end
  until cursor == '0'
end
return redis.call('ZCARD', KEYS[2])
`);

/** getLatestStep in one round trip: {head, step JSON}, {head} if the record is missing, nil if no run. */
export const LATEST_STEP = new LuaScript(`
local run, failure = head_and_first()
if not run then return failure end
local head = int(run[1])
return {head, redis.call('HGET', KEYS[1], head)}
`);

/**
 * getStep: {head, first, step JSON or nil}, nil if no run. ARGV: the step.
 */
export const GET_STEP = new LuaScript(`
local run, failure = head_and_first()
if not run then return failure end
return {int(run[1]), int(run[2]), redis.call('HGET', KEYS[1], ARGV[1])}
`);

/**
 * listSteps: a run stores the contiguous steps first..head, so a page is one
 * HMGET of consecutive fields. ARGV: last step of the previous page (-1:
 * none), page size. Returns {head, first step of the page, records...}
 * (a missing record as nil), or nil if no run.
 */
export const LIST_STEPS = new LuaScript(`
local run, failure = head_and_first()
if not run then return failure end
local head, first = run[1], run[2]
local from = math.max(first, tonumber(ARGV[1]) + 1)
local to = math.min(head, from + tonumber(ARGV[2]) - 1)
local reply = {int(head), int(from)}
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
 * of a run re-created meanwhile is kept. Returns 1 if dropped, 0 if the entry
 * is the run's, 2 if the run exists without its `member` field (damaged:
 * kept, and reported by the caller).
 */
export const DROP_STALE_ENTRY = new LuaScript(`
local damaged = wrong_type('hash', 1, 1) or wrong_type('zset', 2, INDEXES + 1)
if damaged then return damaged end
if redis.call('EXISTS', KEYS[1]) == 1 then
  local member = redis.call('HGET', KEYS[1], 'member')
  if member == ARGV[1] then return 0 end
  if not member then return 2 end
end
forget(ARGV[1], 2)
return 1
`);

/**
 * Drops an index member that is not one the store writes (not a creation
 * time and run id). KEYS = the index keys; ARGV: member.
 */
export const DROP_FOREIGN_ENTRY = new LuaScript(`
local damaged = wrong_type('zset', 1, INDEXES)
if damaged then return damaged end
forget(ARGV[1], 1)
return 1
`);

/**
 * How many live runs a workflow has: entries of its all-runs index minus
 * those past their expiry, dropping a bounded batch of the latter on the way.
 * KEYS = the index keys (RunKeys without the run).
 */
export const LIVE_RUNS = new LuaScript(`
local damaged = wrong_type('zset', 1, INDEXES)
if damaged then return damaged end
local bound = '(' .. int(now_ms())
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', bound, 'LIMIT', 0, 100)) do
  forget(gone, 1)
end
return redis.call('ZCARD', KEYS[1]) - redis.call('ZCOUNT', KEYS[2], '-inf', bound)
`);
