-- Deletes the claim on KEYS[1] if the owner token ARGV[1] still holds it, so that a retry runs the handler again.
local record = redis.call('HMGET', KEYS[1], 'state', 'token')
if record[1] ~= 'in_progress' or record[2] ~= ARGV[1] then
  return 0
end
return redis.call('DEL', KEYS[1])
