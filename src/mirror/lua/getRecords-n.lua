--[[
  getRecords-n.lua — reads many consent records in one call, whole (getMany) or only what the
  decision policy needs (getPolicyMany: batch checks), on a single Redis node; on a cluster the
  store pipelines HMGET per node instead. Read-only.

  KEYS (n):   bucket hashes of current records (<prefix>c{<bucket>})
  ARGV[1]:    the fields wanted, per key in KEYS order: the fields of one key joined by '\n', the
              lists of successive keys joined by '\t' (fields never hold control characters)
  ARGV[2]:    'whole' or 'policy'
  Returns:    one bulk string, for each key in order, for each of its fields in order:
              whole:  a 2-byte big-endian length and the encoded value, or the length 0xFFFF alone
                      when the bucket holds no such field;
              policy: '-' (no such record), or the status byte (value byte 1: O, R, o, r; see
                      redis-codec.ts), a 2-byte big-endian length and the value's extras (the bytes
                      after the transactionId: retailerCode and retailerAccess, usually empty) —
                      3 bytes a record instead of ~50: dates, source and transactionId left out.
              One reply instead of thousands keeps the client cheap.
]]
local parts = {}
local np = 0
local byte, sub, char, find = string.byte, string.sub, string.char, string.find
local call = redis.call
local s = ARGV[1]
local pos = 1
local len = #s
local ki = 1

local function whole(v)
  if not v then return '\255\255' end
  return char(math.floor(#v / 256), #v % 256) .. v
end
-- value byte 15 marks the transactionId: n none, h 32 raw bytes, s 2-byte length + bytes;
-- the extras follow it
local function policy(v)
  if not v then return '-' end
  local m = byte(v, 15)
  local e
  if m == 110 then e = 16 elseif m == 104 then e = 48 else e = 18 + byte(v, 16) * 256 + byte(v, 17) end
  local n = #v - e + 1
  if n > 0 then return sub(v, 1, 1) .. char(math.floor(n / 256), n % 256) .. sub(v, e) end
  return sub(v, 1, 1) .. '\0\0'
end
local enc = whole
if ARGV[2] == 'policy' then enc = policy end

-- a bucket asked for one field (the usual case in a large mirror) costs one HGET and no table
while pos <= len do
  local tab = find(s, '\t', pos, true) or (len + 1)
  local list = sub(s, pos, tab - 1)
  if not find(list, '\n', 1, true) then
    np = np + 1
    parts[np] = enc(call('HGET', KEYS[ki], list))
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
      np = np + 1
      parts[np] = enc(vals[j])
    end
  end
  ki = ki + 1
  pos = tab + 1
end
return table.concat(parts)
