-- Extends the claim on KEYS[1] while its owner is still running: only if the record there is still exactly the claim
-- ARGV[1] as its owner wrote it. ARGV[2] is the new lease in ms.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
