--[[
  peekPolicies-n.lua — reads what the decision policy needs of many consent records in one call
  (RedisStore.getPolicyMany on a single Redis node: batch checks). Read-only. Same input as
  getRecords-n.lua; the reply leaves out dates, source and transactionId, which a batch answer
  never shows, so the client decodes 3 bytes per record instead of ~50.

  KEYS (n):   bucket hashes of current records (<prefix>c{<bucket>})
  ARGV[1]:    the fields wanted, per key in KEYS order: the fields of one key joined by '\n', the
              lists of successive keys joined by '\t' (fields never hold control characters)
  Returns:    one bulk string: for each key in order, for each of its fields in order, either
              '-' (no such record) or the status byte (value byte 1: O, R, o, r; see
              redis-codec.ts), a 2-byte big-endian length and the value's extras (the bytes after
              the transactionId: retailerCode and retailerAccess, usually empty).
]]
local parts = {}
local np = 0
local byte, sub, char, find = string.byte, string.sub, string.char, string.find
local call = redis.call
local s = ARGV[1]
local pos = 1
local len = #s
local ki = 1
-- value byte 15 marks the transactionId: n none, h 32 raw bytes, s 2-byte length + bytes;
-- the extras follow it
local function enc(v)
  local m = byte(v, 15)
  local e
  if m == 110 then e = 16 elseif m == 104 then e = 48 else e = 18 + byte(v, 16) * 256 + byte(v, 17) end
  local n = #v - e + 1
  if n > 0 then return sub(v, 1, 1) .. char(math.floor(n / 256), n % 256) .. sub(v, e) end
  return sub(v, 1, 1) .. '\0\0'
end
-- a bucket asked for one field (the usual case in a large mirror) costs one HGET and no table
while pos <= len do
  local tab = find(s, '\t', pos, true) or (len + 1)
  local list = sub(s, pos, tab - 1)
  if not find(list, '\n', 1, true) then
    local v = call('HGET', KEYS[ki], list)
    np = np + 1
    if v then parts[np] = enc(v) else parts[np] = '-' end
  else
    local fields = {}
    local nf = 0
    local p = 1
    while true do
      local nl = find(list, '\n', p, true)
      nf = nf + 1
      if nl then fields[nf] = sub(list, p, nl - 1); p = nl + 1 else fields[nf] = sub(list, p); break end
    end
    local vals = call('HMGET', KEYS[ki], unpack(fields))
    for j = 1, nf do
      local v = vals[j]
      np = np + 1
      if v then parts[np] = enc(v) else parts[np] = '-' end
    end
  end
  ki = ki + 1
  pos = tab + 1
end
return table.concat(parts)
