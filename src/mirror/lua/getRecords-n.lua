--[[
  getRecords-n.lua — reads many consent records in one call (getMany on a single Redis node;
  on a cluster the store pipelines HMGET per node instead). Read-only.

  KEYS (n):   bucket hashes of current records (<prefix>c{<bucket>})
  ARGV (n):   ARGV[i] = the fields wanted from KEYS[i], joined by '\n' (fields never hold '\n')
  Returns:    one flat array: for each key in order, for each of its fields in order, the encoded
              value or nil when the bucket holds no such field.
]]
local out = {}
local nout = 0
for i = 1, #KEYS do
  local fields = {}
  for f in string.gmatch(ARGV[i], '[^\n]+') do fields[#fields + 1] = f end
  local vals = redis.call('HMGET', KEYS[i], unpack(fields))
  for j = 1, #fields do
    nout = nout + 1
    out[nout] = vals[j]
  end
end
return out
