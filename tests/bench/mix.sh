# The request mix of the memory rounds and its run (tests/bench/run.sh,
# memory.sh), sourced by both: write_mix_lua FILE APP_TOKEN AUDITOR_TOKEN PROJECT_ID
# PER_THREAD SUMMARY writes a wrk script cycling through 20 slots — 7 × GET
# /me, 6 × GET /projects/{id}, 2 × GET /approvals, 2 × GET /audit, 3 × POST
# /projects (each also reaches the audit log through the outbox) — whose
# threads each stop after PER_THREAD answers, leaving a file done.<n> beside
# FILE (wrk waits out -d even when every thread stopped: the caller
# interrupts it once every thread left its file).
write_mix_lua() {
  local file=$1 app=$2 aud=$3 project=$4 limit=$5 summary=$6
  local project_body='{"title":"内存测试项目","kind":"upgrade","summary":"'"$summary"'","budget_cents":100000,"serves_external_units":false}'
  cat >"$file" <<EOF
local app = {["Authorization"] = "Bearer $app"}
local aud = {["Authorization"] = "Bearer $aud"}
local post = {["Authorization"] = "Bearer $app", ["Content-Type"] = "application/json"}
local me, pr = {"GET", "/api/v1/me", app}, {"GET", "/api/v1/projects/$project", app}
local ap, au = {"GET", "/api/v1/approvals?limit=10", app}, {"GET", "/api/v1/audit?limit=10", aud}
local po = {"POST", "/api/v1/projects", post, '$project_body'}
local slots = {me, pr, me, po, pr, ap, me, pr, au, me, po, pr, me, ap, pr, au, me, po, pr, me}
local limit = $limit
local sent, got = 0, 0
local n = 0
function setup(thread)
  n = n + 1
  thread:set("id", n)
end
function request()
  sent = sent + 1
  local s = slots[(sent % #slots) + 1]
  return wrk.format(s[1], s[2], s[3], s[4])
end
function response(status)
  got = got + 1
  if got == limit then
    io.open("$(dirname "$file")/done." .. id, "w"):close()
    wrk.thread:stop()
  end
end
EOF
}

# run_mix SCRIPT URL THREADS CONNS REQUESTS OUT: runs wrk with the script
# until every thread left its done file, keeps wrk's summary in OUT, prints
# its two lines; fails (die) when wrk failed, an answer was not 2xx or fewer
# than REQUESTS were sent (wrk counts those in flight when a thread stops too).
run_mix() {
  local script=$1 url=$2 threads=$3 conns=$4 requests=$5 out=$6 dir pid n
  dir=$(dirname "$script")
  rm -f "$dir"/done.*
  wrk -t"$threads" -c"$conns" -d3600s -s "$script" "$url" >"$out" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null && [ "$(find "$dir" -name 'done.*' | wc -l)" -lt "$threads" ]; do
    sleep 0.2
  done
  kill -INT "$pid" 2>/dev/null || true # prints its summary and exits
  wait "$pid" || { cat "$out" >&2; die "wrk failed"; }
  n=$(awk '/requests in/ {print $1}' "$out")
  grep -E 'requests in|Requests/sec' "$out" | sed 's/^ */  /'
  if grep -qE 'Non-2xx|Socket errors' "$out"; then
    cat "$out" >&2
    die "some requests of the mix failed"
  fi
  [ "$n" -ge "$requests" ] || die "wrk sent $n requests, not $requests"
}
