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
local i = 0
for list in string.gmatch(ARGV[1], '[^\t]+') do
  i = i + 1
  local fields = {}
  for f in string.gmatch(list, '[^\n]+') do fields[#fields + 1] = f end
  local vals = redis.call('HMGET', KEYS[i], unpack(fields))
  for j = 1, #fields do
    local v = vals[j]
    np = np + 1
    if v then
      parts[np] = string.char(math.floor(#v / 256), #v % 256) .. v
    else
      parts[np] = '\255\255'
    end
  end
end
return table.concat(parts)
