-- Stores a response on KEYS[1], kept for the retention, if the record there is still exactly the claim ARGV[1]:
-- otherwise the owner's lease expired, and the record is gone, completed or another request's claim.
-- ARGV: 1 the claim record as its owner wrote it, 2 the completed record's first line and headers, 3 the body,
-- 4 retention (ms), 5 how the completed record starts for this claim: version, state, fingerprint, owner and
-- creation time. The body comes apart from the rest so that the application never copies it.
local record = redis.call('GET', KEYS[1])
if record ~= ARGV[1] then
  -- Completed under this claim already, by a completion tried again after a failure that stored it after all, or
  -- sent again by the client after a reconnect, as Lettuce does with commands that had no reply yet. The first
  -- response stays.
  if record and string.sub(record, 1, #ARGV[5]) == ARGV[5] then
    return 1
  end
  return 0
end
redis.call('SET', KEYS[1], ARGV[2] .. ARGV[3], 'PX', ARGV[4])
return 1
