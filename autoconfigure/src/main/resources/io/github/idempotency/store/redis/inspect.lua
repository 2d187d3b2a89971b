-- Reads the record KEYS[1] for an operator, with the time it has left, in one round trip. Empty when there is none.
local record = redis.call('HMGET', KEYS[1], 'v', 'state', 'fp', 'created', 'completed', 'status', 'headers', 'body')
if not record[2] then
  return {}
end
return {record[1] or '', record[2], record[3] or '', record[4] or '', record[5] or '', record[6] or '', record[7] or '',
  record[8] or '', tostring(redis.call('PTTL', KEYS[1]))}
