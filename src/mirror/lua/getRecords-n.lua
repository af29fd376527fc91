--[[
  getRecords-n.lua — reads many consent records in one call (getMany on a single Redis node;
  on a cluster the store pipelines HMGET per node instead). Read-only.

  KEYS (n):   bucket hashes of current records (<prefix>c{<bucket>})
  ARGV[1]:    the fields wanted, per key in KEYS order: the fields of one key joined by '\n', the
              lists of successive keys joined by '\t' (fields never hold control characters)
  Returns:    one bulk string: for each key in order, for each of its fields in order, a 2-byte
              big-endian length and the encoded value, or the length 0xFFFF alone when the bucket
              holds no such field (one reply instead of thousands keeps the client cheap).
]]
local parts = {}
local np = 0
local byte, sub, char, find = string.byte, string.sub, string.char, string.find
local call = redis.call
local s = ARGV[1]
local pos = 1
local len = #s
local ki = 1
local function enc(v)
  return char(math.floor(#v / 256), #v % 256) .. v
end
-- a bucket asked for one field (the usual case in a large mirror) costs one HGET and no table
while pos <= len do
  local tab = find(s, '\t', pos, true) or (len + 1)
  local list = sub(s, pos, tab - 1)
  if not find(list, '\n', 1, true) then
    local v = call('HGET', KEYS[ki], list)
    np = np + 1
    if v then parts[np] = enc(v) else parts[np] = '\255\255' end
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
      if v then parts[np] = enc(v) else parts[np] = '\255\255' end
    end
  end
  ki = ki + 1
  pos = tab + 1
end
return table.concat(parts)
