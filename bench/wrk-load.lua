-- wrk script for bench/load.ts, called with `-- <method> [fresh-user-id]`: fresh-user-id sends each
-- request with the body {"userId": <a new random UUID>}; done() prints one line, RESULT <json>,
-- that load.ts reads.
local threads = {}
local method = "GET"
local fresh = false

function setup(thread)
  thread:set("seed", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  method = args[1] or "GET"
  fresh = args[2] == "fresh-user-id"
  math.randomseed(os.time() * 1000 + seed)
  statuses = {}
end

local function uuid()
  return string.format("%08x-%04x-4%03x-%04x-%06x%06x", math.random(0, 0xffffffff), math.random(0, 0xffff),
    math.random(0, 0xfff), math.random(0x8000, 0xbfff), math.random(0, 0xffffff), math.random(0, 0xffffff))
end

function request()
  if fresh then
    return wrk.format(method, nil, nil, '{"userId":"' .. uuid() .. '"}')
  end
  return wrk.format(method)
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency)
  local all = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do all[status] = (all[status] or 0) + n end
  end
  local counts = {}
  for status, n in pairs(all) do table.insert(counts, string.format('"%d":%d', status, n)) end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('RESULT {"requests":%d,"seconds":%f,"p50":%f,"p99":%f,"errors":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors,
    table.concat(counts, ",")))
end
