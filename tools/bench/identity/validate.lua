-- wrk -s validate.lua URL/identity/v3/auth/tokens: validation as
-- keystonemiddleware asks (service token in X-Auth-Token, the user's in
-- X-Subject-Token, catalog included). Tokens from the environment.
wrk.method = "GET"
wrk.headers["Accept"] = "application/json"
wrk.headers["X-Auth-Token"] = os.getenv("AUTH_TOKEN")
wrk.headers["X-Subject-Token"] = os.getenv("SUBJECT_TOKEN")

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
