--[[
  applyMovements-3n.lua — applies consent movements in order, each keeping the newer record of
  its key (src/domain/consent-order.ts), idempotently, with a bounded per-key history, and adds
  each movement that is not a duplicate to the key's movement history with its applied time
  (src/mirror/timeline.ts), in the same script: a record change never lands without its entry.
  Encoding of fields and values: src/mirror/redis-codec.ts.

  KEYS (3 per bucket, n buckets; in Redis Cluster every key of one call shares a hash tag):
    KEYS[3i-2]  bucket hash of current records     (<prefix>c{<bucket>})
    KEYS[3i-1]  bucket hash of older movements     (<prefix>h{<bucket>})
    KEYS[3i]    bucket hash of movement histories  (<prefix>t{<bucket>}): per field, entries in
                apply order, each 2 bytes length L (big-endian) then L bytes: appliedAt as 13
                decimal digits (epoch ms), 'a' (applied) or 'i' (ignoredOlder), the encoded value
  ARGV:
    ARGV[1]     maxHistory: movements kept per key, current record included (integer >= 1)
    ARGV[2]     invalidation channel; '' = publish nothing
    ARGV[3]     origin: id of the writing process (first line of the published message)
    ARGV[4]     the movements, packed (one argument keeps the call cheap to send), repeated:
                  2 bytes  bucket index i (1-based, into the KEYS triples), big-endian
                  2 bytes  field length F, big-endian, then F bytes of field
                  2 bytes  value length V, big-endian, then V bytes of encoded value
    ARGV[5]     appliedAt: 13 decimal digits (epoch ms) recorded for these movements
    ARGV[6]     retention cutoff: 13 decimal digits; entries applied at or before it are dropped
                from a key's history when it is written, except the last applied one among them
  Returns: one integer per movement, in ARGV order: 1 applied, 0 ignoredOlder, 2 duplicate.
  Side effect: when at least one movement was applied, PUBLISHes origin and the applied fields,
  joined by '\n', on the channel (cache invalidation for every gateway process).
]]
local maxHist = tonumber(ARGV[1])
local channel = ARGV[2]
local origin = ARGV[3]
local out = {}
local changed = {}
local appliedAt = ARGV[5]
local cutoff = ARGV[6]

-- length of the identity prefix of an encoded value (status, source, dates, transactionId)
local function idlen(v)
  local m = string.byte(v, 15)
  if m == 110 then return 15 end          -- 'n': no transactionId
  if m == 104 then return 47 end          -- 'h': 32 raw bytes
  return 17 + string.byte(v, 16) * 256 + string.byte(v, 17)
end

local function isRet(v)
  local s = string.byte(v, 1)
  return s == 82 or s == 114               -- 'R' / 'r'
end

-- > 0 when a is newer than b: consentDate, then creationDate (order-preserving codes), RET wins
local function cmp(a, b)
  local ka, kb = string.sub(a, 3, 14), string.sub(b, 3, 14)
  if ka ~= kb then
    if ka > kb then return 1 else return -1 end
  end
  local ra, rb = isRet(a), isRet(b)
  if ra == rb then return 0 end
  if ra then return 1 else return -1 end
end

local function decodeHist(s)
  local list = {}
  local i, n = 1, #s
  while i + 1 <= n do
    local len = string.byte(s, i) * 256 + string.byte(s, i + 1)
    list[#list + 1] = string.sub(s, i + 2, i + 1 + len)
    i = i + 2 + len
  end
  return list
end

local function encodeHist(list, maxn)
  local parts = {}
  for j = 1, math.min(#list, maxn) do
    local v = list[j]
    parts[j] = string.char(math.floor(#v / 256), #v % 256) .. v
  end
  return table.concat(parts)
end

-- appends one entry to the movement history of field f in hash tk, dropping what retention no
-- longer needs (timeline.ts pruneTimeline: entries at or before the cutoff, but the last applied one)
local function note(tk, f, kind, v)
  local e = appliedAt .. kind .. v
  e = string.char(math.floor(#e / 256), #e % 256) .. e
  if redis.call('HSETNX', tk, f, e) == 1 then return end
  local s = redis.call('HGET', tk, f)
  if string.sub(s, 3, 15) <= cutoff then
    local list = decodeHist(s)
    local keep = 0
    for j, h in ipairs(list) do
      if string.sub(h, 1, 13) <= cutoff and string.sub(h, 14, 14) == 'a' then keep = j end
    end
    local parts = {}
    for j, h in ipairs(list) do
      if j == keep or string.sub(h, 1, 13) > cutoff then parts[#parts + 1] = string.char(math.floor(#h / 256), #h % 256) .. h end
    end
    s = table.concat(parts)
  end
  redis.call('HSET', tk, f, s .. e)
end

local packed = ARGV[4]
local pos, plen = 1, #packed
while pos <= plen do
  local b = string.byte(packed, pos) * 256 + string.byte(packed, pos + 1)
  local flen = string.byte(packed, pos + 2) * 256 + string.byte(packed, pos + 3)
  local f = string.sub(packed, pos + 4, pos + 3 + flen)
  pos = pos + 4 + flen
  local vlen = string.byte(packed, pos) * 256 + string.byte(packed, pos + 1)
  local v = string.sub(packed, pos + 2, pos + 1 + vlen)
  pos = pos + 2 + vlen
  local ck, hk, tk = KEYS[3 * b - 2], KEYS[3 * b - 1], KEYS[3 * b]
  if redis.call('HSETNX', ck, f, v) == 1 then
    -- first movement of this key (the common case of an import): one call, and its history entry
    out[#out + 1] = 1
    changed[#changed + 1] = f
    note(tk, f, 'a', v)
  else
    local cur = redis.call('HGET', ck, f)
    local vid = string.sub(v, 1, idlen(v))
    if string.sub(cur, 1, idlen(cur)) == vid then
      out[#out + 1] = 2
    else
      local hs = redis.call('HGET', hk, f)
      local hist = {}
      if hs then hist = decodeHist(hs) end
      local dup = false
      for _, h in ipairs(hist) do
        if string.sub(h, 1, idlen(h)) == vid then dup = true break end
      end
      if dup then
        out[#out + 1] = 2
      elseif cmp(v, cur) > 0 then
        redis.call('HSET', ck, f, v)
        if maxHist > 1 then
          table.insert(hist, 1, cur)
          redis.call('HSET', hk, f, encodeHist(hist, maxHist - 1))
        end
        out[#out + 1] = 1
        changed[#changed + 1] = f
        note(tk, f, 'a', v)
      else
        -- older (or equivalent but different) movement: history only, newest first
        local pos = #hist + 1
        for j, h in ipairs(hist) do
          if cmp(v, h) > 0 then pos = j break end
        end
        if pos <= maxHist - 1 then
          table.insert(hist, pos, v)
          redis.call('HSET', hk, f, encodeHist(hist, maxHist - 1))
        end
        out[#out + 1] = 0
        note(tk, f, 'i', v)
      end
    end
  end
end

if channel ~= '' and #changed > 0 then
  redis.call('PUBLISH', channel, origin .. '\n' .. table.concat(changed, '\n'))
end
return out
