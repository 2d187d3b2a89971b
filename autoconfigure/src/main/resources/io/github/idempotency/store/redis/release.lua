-- Deletes the claim on KEYS[1] if the owner token ARGV[1] still holds it, so that a retry runs the handler again.
local record = redis.call('GET', KEYS[1])
if not record then
  return 0
end
local state, token = string.match(record, '^%S+ (%S+) %S+ (%S+) ')
if state ~= 'in_progress' or token ~= ARGV[1] then
  return 0
end
return redis.call('DEL', KEYS[1])
