-- wrk sends `depth` requests at once on each connection (HTTP/1.1 pipelining) and writes
-- them with one send: wrk's CPU per request falls to a fraction, so on a machine where it
-- shares the cores with the server it takes less of them. `depth` is the script's argument
-- (wrk ... -s wrk-pipeline.lua URL -- 16). wrk counts every response it parses.
init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil)
  end
  batch = table.concat(r)
end

request = function()
  return batch
end
