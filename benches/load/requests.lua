-- wrk script: POST requests to keycard, cycling through the bodies in the file named by
-- KEYCARD_BODIES (one JSON body per line), pre-formatted once so the client spends its time
-- sending, not building requests. Counts non-200 answers (wrk also prints them).

local path = os.getenv("KEYCARD_PATH") or "/v1/authorize"
local file = assert(io.open(os.getenv("KEYCARD_BODIES"), "r"))
local bodies = {}
for line in file:lines() do
  if #line > 0 then bodies[#bodies + 1] = line end
end
file:close()

local prepared = {}
local i = 0

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  for k, body in ipairs(bodies) do
    wrk.body = body
    prepared[k] = wrk.format("POST", path)
  end
end

function request()
  i = i % #prepared + 1
  return prepared[i]
end
