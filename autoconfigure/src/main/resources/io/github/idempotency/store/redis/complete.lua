-- Stores the response of the request that owns the claim on KEYS[1], and keeps it for the retention.
-- Does nothing when another token holds the record: the caller's lease expired and the key was claimed again.
-- ARGV: 1 owner token, 2 retention (ms), 3 status, 4 headers, 5 body, 6 completion time (epoch ms, for operators only)
local record = redis.call('HMGET', KEYS[1], 'state', 'token')
if record[1] ~= 'in_progress' or record[2] ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'completed', 'status', ARGV[3], 'headers', ARGV[4], 'body', ARGV[5], 'completed', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
