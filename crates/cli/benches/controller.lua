-- wrk script of the controller benchmark (crates/cli/benches/controller/).
--
-- Sends pre-signed device requests from a file per wrk thread (`<file>.<thread>`, threads
-- counted from 0), one request per line:
--   <serial> <timestamp> <nonce> <signature> <etag>
-- Each line is sent once; the server refuses a signed request seen before, so `done` reports
-- how many times a thread ran out and started over (0 in a valid run against mpc).
--
-- Arguments (after `--`): <file> <mode>, where mode is `none` (no If-None-Match), `own` (the
-- line's ETag) or an ETag to send with every request (nginx's).

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   local file, mode = args[1], args[2]
   local head = "GET /device/v1/config HTTP/1.1\r\nHost: " .. wrk.headers["Host"] .. "\r\n"
   requests = {}
   for line in io.lines(file .. "." .. id) do
      local serial, ts, nonce, sig, etag = line:match("^(%S+) (%S+) (%S+) (%S+) (%S+)$")
      local conditional = ""
      if mode == "own" then
         conditional = "If-None-Match: " .. etag .. "\r\n"
      elseif mode ~= "none" then
         conditional = "If-None-Match: " .. mode .. "\r\n"
      end
      requests[#requests + 1] = head
         .. "X-MPC-Serial: " .. serial .. "\r\n"
         .. "X-MPC-Timestamp: " .. ts .. "\r\n"
         .. "X-MPC-Nonce: " .. nonce .. "\r\n"
         .. "X-MPC-Signature: " .. sig .. "\r\n"
         .. conditional .. "\r\n"
   end
   count = #requests
   next_request = 0
   wrapped = 0
end

function request()
   next_request = next_request + 1
   if next_request > count then
      next_request = 1
      wrapped = wrapped + 1
   end
   return requests[next_request]
end

function done(summary, latency, requests)
   local total = 0
   for _, thread in ipairs(threads) do
      total = total + thread:get("wrapped")
   end
   io.write(string.format("wrapped: %d\n", total))
end
