-- Extends the claim on KEYS[1] while its owner, token ARGV[1], is still running; ARGV[2] is the new lease in ms.
-- Does nothing once the record is completed, released or claimed by someone else.
local record = redis.call('GET', KEYS[1])
if not record then
  return 0
end
local state, token = string.match(record, '^%S+ (%S+) %S+ (%S+) ')
if state ~= 'in_progress' or token ~= ARGV[1] then
  return 0
end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
