-- Deletes the claim on KEYS[1], so that a retry runs the handler again: only if the record there is still exactly the
-- claim ARGV[1] as its owner wrote it.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
return redis.call('DEL', KEYS[1])
