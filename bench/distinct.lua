-- wrk: every request a URL no one asked for before (a new retain and a counter), so no page
-- is served twice: the dashboard's cost when every visitor previews something else.
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. "&retain=" .. (counter % 997 + 1) .. "&n=" .. counter .. "-" .. math.random(1e9))
end
