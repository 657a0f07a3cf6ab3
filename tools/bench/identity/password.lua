-- wrk -s password.lua URL/identity/v3/auth/tokens: a project-scoped
-- password token by names, as openstackclient asks (the body of
-- research/keystone-anchor/bench/password.lua). USER, PASSWORD, PROJECT
-- come from the environment.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.body = string.format('{"auth": {"identity": {"methods": ["password"], ' ..
  '"password": {"user": {"name": "%s", "domain": {"name": "Default"}, ' ..
  '"password": "%s"}}}, "scope": {"project": {"name": "%s", ' ..
  '"domain": {"name": "Default"}}}}}',
  os.getenv("USER_NAME"), os.getenv("USER_PASSWORD"), os.getenv("PROJECT_NAME"))

function response(status, headers, body)
  if status ~= 201 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
