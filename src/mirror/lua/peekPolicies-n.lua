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
local i = 0
local byte, sub, char = string.byte, string.sub, string.char
for list in string.gmatch(ARGV[1], '[^\t]+') do
  i = i + 1
  local fields = {}
  for f in string.gmatch(list, '[^\n]+') do fields[#fields + 1] = f end
  local vals = redis.call('HMGET', KEYS[i], unpack(fields))
  for j = 1, #fields do
    local v = vals[j]
    np = np + 1
    if v then
      -- value byte 15 marks the transactionId: n none, h 32 raw bytes, s 2-byte length + bytes
      local m = byte(v, 15)
      local e
      if m == 110 then e = 16 elseif m == 104 then e = 48 else e = 18 + byte(v, 16) * 256 + byte(v, 17) end
      local n = #v - e + 1
      if n > 0 then
        parts[np] = sub(v, 1, 1) .. char(math.floor(n / 256), n % 256) .. sub(v, e)
      else
        parts[np] = sub(v, 1, 1) .. '\0\0'
      end
    else
      parts[np] = '-'
    end
  end
end
return table.concat(parts)
