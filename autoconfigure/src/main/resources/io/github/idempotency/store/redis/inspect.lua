-- Reads the record KEYS[1] for an operator, with the time it has left, in one round trip. Empty when there is none.
local record = redis.call('GET', KEYS[1])
if not record then
  return {}
end
return {record, tostring(redis.call('PTTL', KEYS[1]))}
