-- wrk script for bench/compare: HTTP pipelining (seed 002's technique) and
-- a machine-readable summary.
--
--   wrk -t1 -c100 -d5s -s bench/pipeline.lua http://127.0.0.1:8080/ -- 16
--
-- The argument after "--" is the pipeline depth (default 1): each write
-- carries that many GET requests of the URL's path, and wrk counts one
-- response for each.  With depth 1 the script defines no request(), so wrk
-- sends its static request as plain wrk does.  done() prints one JSON line
-- that starts with {"tool":"wrk"; latency values are microseconds.

local depth = 1
local batch

function init(args)
	depth = tonumber(args[1] or "1") or 1
	if depth < 1 then
		depth = 1
	end
	if depth == 1 then
		request = nil
		return
	end
	local r = {}
	for i = 1, depth do
		r[i] = wrk.format(nil, wrk.path)
	end
	batch = table.concat(r)
end

function request()
	return batch
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		'{"tool":"wrk","duration_us":%d,"requests":%d,"bytes":%d,' ..
		'"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
		'"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}}\n',
		summary.duration, summary.requests, summary.bytes,
		e.connect, e.read, e.write, e.status, e.timeout,
		latency:percentile(50), latency:percentile(90),
		latency:percentile(99), latency:percentile(99.9),
		latency.max, latency.mean))
end
