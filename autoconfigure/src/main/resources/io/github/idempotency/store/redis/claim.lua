-- Claims the record KEYS[1] for one request, or reports what already holds it. One key, constant time.
-- ARGV: 1 fingerprint, 2 owner token, 3 lease (ms), 4 creation time (epoch ms, for operators only), 5 format version
-- Versions are "major" or "major.minor": minors only add fields, so any record of the same major is readable.
-- One HMGET reads everything any answer needs: each redis.call costs Redis a few microseconds.
local record = redis.call('HMGET', KEYS[1], 'v', 'state', 'fp', 'status', 'headers', 'body')
if not record[2] then
  redis.call('HSET', KEYS[1], 'v', ARGV[5], 'state', 'in_progress', 'fp', ARGV[1], 'token', ARGV[2], 'created', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'claimed'}
end
if string.match(record[1] or '', '^%d+') ~= string.match(ARGV[5], '^%d+') then
  return {'unreadable', record[1] or ''}
end
if record[3] ~= ARGV[1] then
  return {'mismatch'}
end
if record[2] == 'in_progress' then
  return {'in_progress'}
end
return {'completed', record[4], record[5], record[6]}
