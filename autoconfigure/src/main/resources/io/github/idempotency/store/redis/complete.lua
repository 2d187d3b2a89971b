-- Stores the response of the request that owns the claim on KEYS[1], and keeps it for the retention.
-- Does nothing when another token holds the record: the caller's lease expired and the key was claimed again.
-- ARGV: 1 owner token, 2 retention (ms), 3 status, 4 headers, 5 body, 6 completion time (epoch ms, for operators only)
local record = redis.call('GET', KEYS[1])
if not record then
  return 0
end
local version, state, fingerprint, token, created = string.match(record, '^(%S+) (%S+) (%S+) (%S+) (%S+) ')
if state ~= 'in_progress' or token ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], version .. ' completed ' .. fingerprint .. ' - ' .. created .. ' ' .. ARGV[6] .. ' '
  .. ARGV[3] .. ' ' .. #ARGV[4] .. '\n' .. ARGV[4] .. ARGV[5], 'PX', ARGV[2])
return 1
