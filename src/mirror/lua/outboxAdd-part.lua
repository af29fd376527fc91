--[[
  outboxAdd-part.lua — adds İYS outbox items (src/iys/redis-outbox.ts). Run alone (KEYS = the two
  outbox keys, argument base 0) or as the first part of the refusal script, before applyMovements-2n.lua
  in the same script (argument base 4, the outbox keys after the bucket keys), so a refusal is queued
  and applied to the mirror in one atomic unit on a single Redis node.
  KEYS[#KEYS-1]  hash id → item JSON;  KEYS[#KEYS]  sorted set of open items by nextAttemptAt
  ARGV[base+1]   n; then n triples: id, item JSON, nextAttemptAt (epoch ms)
  An id already present is left alone (a retried add never resets an item's state).
]]
do
  local itemsKey, dueKey = KEYS[#KEYS - 1], KEYS[#KEYS]
  local base = ARGV_BASE
  local n = tonumber(ARGV[base + 1])
  for i = 0, n - 1 do
    local id = ARGV[base + 2 + 3 * i]
    if redis.call('HSETNX', itemsKey, id, ARGV[base + 3 + 3 * i]) == 1 then
      redis.call('ZADD', dueKey, ARGV[base + 4 + 3 * i], id)
    end
  end
end
