-- Requests for the load runs of run.sh. Arguments after "--": mode (unique | replay | mixed), then, for mixed runs,
-- the path of the replay half when it differs from the first execution's (the floor's GET endpoint).
--   unique: every request has a key never seen before, so every request executes
--   replay: keys cycle through 1,000 that were completed beforehand, so every request is a replay
--   mixed:  every other request is a replay
local mode = "unique"
local replay_path = nil
local prefix = nil
local counter = 0

function init(args)
  mode = args[1] or "unique"
  replay_path = args[2]
  math.randomseed(os.time())
  prefix = "run-" .. os.time() .. "-" .. math.random(1, 1000000000)
end

wrk.method = "POST"
wrk.body = '{"name":"book","quantity":2}'
wrk.headers["Content-Type"] = "application/json"

function request()
  counter = counter + 1
  local key = prefix .. "-" .. counter
  local path = wrk.path
  if mode == "replay" or (mode == "mixed" and counter % 2 == 0) then
    key = "replay-" .. (counter % 1000)
    path = replay_path or wrk.path
  end
  wrk.headers["Idempotency-Key"] = key
  return wrk.format(nil, path)
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d errors=%d non2xx=%d rps=%.1f p50=%.2f p99=%.2f p999=%.2f\n",
    summary.requests, errors, summary.errors.status, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end
