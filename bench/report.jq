# jq definitions for bench/compare: turn each tool's output into one shape,
# build the per-run records, and write the report's tables and chart data.
# Used as `jq -L bench 'include "report"; ...'`.

# ---- numbers ---------------------------------------------------------------

def num: if type == "number" then . elif type == "string" then (tonumber? // null) else null end;

# Rounds to n decimals.
def round_to(n): if . == null then null else (. * pow(10; n) | round) / pow(10; n) end;

# 1234567.8 -> "1,234,568"
def commas:
  if . == null then "–"
  else (round | tostring) as $s
    | ($s | ltrimstr("-")) as $d
    | [range(($d | length); 0; -3)] as $ends
    | ([$ends[] as $e | $d[([$e - 3, 0] | max):$e]] | reverse | join(",")) as $g
    | (if ($s | startswith("-")) then "-" else "" end) + $g
  end;

# A figure with about 3 significant digits: 0.0123, 1.23, 12.3, 123, 1,234.
def sig3:
  if . == null then "–"
  elif . == 0 then "0"
  elif (. | fabs) >= 1000 then commas
  elif (. | fabs) >= 100 then (round | tostring)
  elif (. | fabs) >= 10 then (round_to(1) | tostring)
  elif (. | fabs) >= 1 then (round_to(2) | tostring)
  else (round_to(3) | tostring)
  end;

def ms: if . == null then null else . / 1000 end;

# ---- tool outputs -> metrics ------------------------------------------------
# Every parser yields {requests, duration_s, throughput_rps, latency_us{p50,
# p90,p99,p999,max,mean}, errors, errors_detail, ...} or {} when the tool
# printed nothing usable.

def lat_keys: ["p50", "p90", "p99", "p999", "max", "mean"];

def norm_latency: . as $l | reduce lat_keys[] as $k ({}; .[$k] = (($l // {})[$k] | num));

# evbench --json (one object).  With --messages 0 (connect + close) its
# unit is connections: they are the run's requests, per connection.
def metrics_evbench:
  if type != "object" or (has("requests") | not) then {}
  else (.unit == "connections") as $conn | {
    requests: (if $conn then (.connects | num) else (.requests | num) end),
    duration_s: (.duration_s | num),
    throughput_rps: (if $conn then (.connections_per_s | num) else (.throughput_rps | num) end),
    latency_us: (.latency_us | norm_latency),
    errors: ([(.errors // {})[] | num // 0] | add // 0),
    errors_detail: (.errors // {}),
    connect_ms_mean: (.connect_ms_mean | num),
    exchange_ms_mean: (.exchange_ms_mean | num),
    connections_per_s: (.connections_per_s | num),
    connect_us: (if .connect_us then (.connect_us | norm_latency) else null end)
  } end;

# The line bench/pipeline.lua prints.  With pipelining, wrk records one
# latency per batch but counts every response, and its coordinated-omission
# correction then invents samples below the minimum: its percentiles are
# unusable (p99 comes out 0), so only the maximum is kept.
def metrics_wrk($depth):
  if type != "object" or (has("requests") | not) then {}
  else (.duration_us / 1e6) as $d | {
    requests: .requests,
    duration_s: $d,
    throughput_rps: (if $d > 0 then .requests / $d else null end),
    latency_us: (if $depth > 1 then {p50: null, p90: null, p99: null, p999: null, max: .latency_us.max, mean: null}
                 else (.latency_us | norm_latency) end),
    errors: ([.errors[]] | add),
    errors_detail: .errors
  } end;

# redis-benchmark --csv: a header line and one line per test.
def metrics_redis($n):
  [split("\n")[] | select(test("^\"[A-Z_]+\",\"[0-9.]+\""))] | last
  | if . == null then {}
    else (gsub("\""; "") | split(",")) as $f
    | ($f[1] | tonumber) as $rps
    | {
        requests: $n,
        duration_s: (if $rps > 0 then $n / $rps else null end),
        throughput_rps: $rps,
        latency_us: {p50: ($f[4] | tonumber * 1000), p90: null, p95: ($f[5] | tonumber * 1000),
                     p99: ($f[6] | tonumber * 1000), p999: null,
                     max: ($f[7] | tonumber * 1000), mean: ($f[2] | tonumber * 1000)},
        errors: 0,
        errors_detail: {}
      }
    end;

# ---- evctl syscalls, whatever shape it takes ---------------------------------
# The probes' JSON is not settled yet: accept a total under a few names, an
# array of {name, calls|count}, or an object of such rows or of numbers.
def rows_total: if type == "array" then (map(if type == "object" then (.calls // .count // 0) elif type == "number" then . else 0 end) | add // 0)
  elif type == "object" then ([.[] | if type == "object" then (.calls // .count // 0) elif type == "number" then . else 0 end] | add // 0)
  else null end;
def total_calls:
  if . == null then null
  elif type == "number" then .
  elif type == "array" then rows_total
  elif type == "object" then
    ((.total_calls // .calls_total // .syscalls_total // .calls | num)
     // (.total | if type == "object" then ((.calls // .count) | num) else num end)
     // (.syscalls | if . == null then null else rows_total end))
  else null end;

# {name: calls} of `evctl syscalls -o json` (its "syscalls" rows), or null.
def calls_by_name:
  if type == "object" and (.syscalls | type) == "array"
  then reduce .syscalls[] as $r ({}; if ($r.name | type) == "string" then .[$r.name] = (($r.calls // $r.count // 0) | num // 0) else . end)
  else null end;

# ---- one run's record ---------------------------------------------------------

def delta($a; $b; $k): if ($a[$k] | num) != null and ($b[$k] | num) != null then ($a[$k] - $b[$k]) else null end;

# A CPU time delta: never below 0.  evd's cpu_*_seconds can go back between
# two snapshots (a process model's exited worker leaves /proc before
# RUSAGE_CHILDREN counts it; the kernel re-splits user and sys on each call):
# such a run's CPU is at least what the clamped delta says, and it is marked.
def clamp0: if . == null then null elif . < 0 then 0 else . end;

# The per-run figures of bench/lib/measure.sh: system calls per request by
# name (top 8), context switches per request, the two CPUs' busy shares,
# RSS, and whether the client's CPU was the limit.  A run is client-bound
# when the client's CPU was >= 90 % busy and the server's was not: its
# requests/s then says how fast the client is, and the server's figure is
# its CPU per request (capacity = 1 / CPU per request on one core).
def extra_metrics($b; $a; $basis; $span; $clk):
  (if ($a.sc_names | type) == "object" and ($b.sc_names | type) == "object"
   then [$a.sc_names | to_entries[] | {name: .key, calls: (.value - ($b.sc_names[.key] // 0))}
         | select(.calls > 0)] | sort_by(-.calls)
   else null end) as $names
  | delta($a; $b; "ctx_vol") as $cv
  | delta($a; $b; "ctx_invol") as $ci
  | (if $span != null and $span > 0 and ($a.srv_ticks | num) != null and ($b.srv_ticks | num) != null
     then (($a.srv_ticks - $b.srv_ticks) / $clk / $span * 100 | if . > 100 then 100 else . end | round_to(1)) else null end) as $sb
  | (if $span != null and $span > 0 and ($a.cli_ticks | num) != null and ($b.cli_ticks | num) != null
     then (($a.cli_ticks - $b.cli_ticks) / $clk / $span * 100 | if . > 100 then 100 else . end | round_to(1)) else null end) as $cb
  | {
      syscalls_top: (if $names == null or ($basis | not) then null
                     else $names[0:8] | map({name, per_req: (.calls / $basis | round_to(3))}) end),
      ctx_vol_per_req: (if $basis and $cv != null and $cv >= 0 then ($cv / $basis | round_to(4)) else null end),
      ctx_invol_per_req: (if $basis and $ci != null and $ci >= 0 then ($ci / $basis | round_to(4)) else null end),
      server_busy_pct: $sb,
      client_busy_pct: $cb,
      client_bound: ($cb != null and $sb != null and $cb >= 90 and $sb < 90),
      server_own_pct: (if $span != null and $span > 0 and ($a.cpu_user | num) != null and ($b.cpu_user | num) != null
                       then ((($a.cpu_user - $b.cpu_user) + ($a.cpu_sys - $b.cpu_sys)) / $span * 100 | round_to(1)) else null end),
      rss_kb: ($a.rss_kb | num),
      threads: ($a.threads | num)
    };

# Input: null.  $m metrics, $b/$a server snapshots before/after, $meta the
# run's description (id, server, kind, model, workers, scenario, case, tool,
# rate, command, rc, wall_s, raw).
def record($m; $b; $a; $meta):
  ($m.requests // null) as $creq
  | delta($a; $b; "requests") as $sreq
  | delta($a; $b; "cpu_user") as $cu_raw
  | delta($a; $b; "cpu_sys") as $cs_raw
  | ($cu_raw | clamp0) as $cu
  | ($cs_raw | clamp0) as $cs
  | delta($a; $b; "syscalls") as $sc
  | delta($a; $b; "busy") as $busy
  | delta($a; $b; "t") as $span
  # fork and prefork: their own CPU time is in ticks per worker process, too
  # coarse to subtract.
  | (if $busy != null and $cu != null and $cs != null and ($meta.model | IN("fork", "prefork") | not)
     then ($busy - $cu - $cs | clamp0) else null end) as $other
  | (if ($sreq // 0) > 0 then $sreq elif ($creq // 0) > 0 then $creq else null end) as $basis
  | (if $meta.rc == 124 or $meta.rc == 137 or ($meta.tool == "evbench" and $meta.rc == 3) then "time limit"
     elif ($m | has("requests") | not) then "failed"
     elif $meta.rc != 0 or ($m.errors // 0) > 0 then "errors"
     else "ok" end) as $status
  | $meta + {
      status: $status,
      requests: $creq,
      duration_s: $m.duration_s,
      throughput_rps: $m.throughput_rps,
      latency_us: ($m.latency_us // {}),
      errors: $m.errors,
      errors_detail: $m.errors_detail,
      connect_ms_mean: $m.connect_ms_mean,
      exchange_ms_mean: $m.exchange_ms_mean,
      connections_per_s: $m.connections_per_s,
      server_requests: $sreq,
      server_errors: delta($a; $b; "errors"),
      cpu_user_s: $cu,
      cpu_sys_s: $cs,
      cpu_clamped: (($cu_raw // 0) < 0 or ($cs_raw // 0) < 0),
      cpu_user_s_raw: $cu_raw,
      cpu_sys_s_raw: $cs_raw,
      cpu_basis: (if ($sreq // 0) > 0 then "server" elif $basis then "client" else null end),
      cpu_user_us_per_req: (if $basis and $cu != null then ($cu * 1e6 / $basis) else null end),
      cpu_sys_us_per_req: (if $basis and $cs != null then ($cs * 1e6 / $basis) else null end),
      other_cpu_s: $other,
      other_cpu_pct: (if $other != null and ($span // 0) > 0 then ($other / $span * 100 | round_to(1)) else null end),
      syscalls: $sc,
      syscalls_per_req: (if $basis and $sc != null then ($sc / $basis) else null end)
    }
  | . + extra_metrics($b; $a; $basis; $span; ($meta.clk_tck // 100))
  | .client_own_pct = (if (.client_cpu_s | num) != null and (.wall_s // 0) > 0 then (.client_cpu_s / .wall_s * 100 | round_to(1)) else null end)
  | .capacity_rps = (if .cpu_user_us_per_req != null and .cpu_sys_us_per_req != null
                        and (.cpu_user_us_per_req + .cpu_sys_us_per_req) > 0
                     then (1e6 / (.cpu_user_us_per_req + .cpu_sys_us_per_req) | round) else null end);


# ---- over all runs (input: the array of records) -----------------------------

def servers: reduce .[].server as $s ([]; if index([$s]) then . else . + [$s] end);
def cases: [.[] | select(.scenario | IN("S5", "S11", "S12") | not)] | reduce .[].case as $c ([]; if index([$c]) then . else . + [$c] end);
def run_of($s; $c): map(select(.server == $s and .case == $c)) | last;
def baseline_rps($base; $c): run_of($base; $c) | if . and .status != "failed" then .throughput_rps else null end;
def cpu_total: if .cpu_user_us_per_req != null and .cpu_sys_us_per_req != null then .cpu_user_us_per_req + .cpu_sys_us_per_req else null end;

def md_row: "| " + (map(tostring) | join(" | ")) + " |";
def md_table($head): ([$head | md_row, (map("---") | md_row)] | join("\n")) as $h | $h;
# "*": the CPU figure of a run whose counters went back (clamp0).
def cpu_mark: if .cpu_clamped == true then "*" else "" end;

def mark: if . == null then "" elif .status == "ok" then "" elif .status == "errors" then " ⚠" elif .status == "time limit" then " ⏱" else " ✗" end;

# Throughput table: one row per server, one column per case.
def table_throughput:
  . as $runs | ($runs | cases) as $cs
  | ([["server"] + $cs | md_row, (["---"] + ($cs | map("---:")) | md_row)]
     + [($runs | servers)[] as $s
        | [$s] + [$cs[] as $c | ($runs | run_of($s; $c)) as $r
                  | if $r == null then "" elif $r.status == "failed" then "✗" else ($r.throughput_rps | commas) + ($r | mark) end]
        | md_row])
  | join("\n");

# Ratio table: throughput over the baseline server's, same case.
def table_ratio($base):
  . as $runs | ($runs | cases) as $cs
  | ([["server"] + $cs | md_row, (["---"] + ($cs | map("---:")) | md_row)]
     + [($runs | servers)[] as $s
        | [$s] + [$cs[] as $c | ($runs | run_of($s; $c)) as $r | ($runs | baseline_rps($base; $c)) as $b
                  | if $r == null or $r.throughput_rps == null or $b == null or $b == 0 then ""
                    else ($r.throughput_rps / $b | round_to(2) | tostring) end]
        | md_row])
  | join("\n");

# Seed 001's table: mean connect and exchange times (ms) per concurrency.
def table_s1:
  . as $runs | [$runs[] | select(.scenario == "S1")] as $s1
  | if ($s1 | length) == 0 then "" else
    ($s1 | reduce .[].case as $c ([]; if index([$c]) then . else . + [$c] end)) as $cs
    | ([["server"] + ($cs | map(. + " connect ms", . + " exchange ms")) | md_row,
        (["---"] + ($cs | map("---:", "---:")) | md_row)]
       + [($s1 | servers)[] as $s
          | [$s] + [$cs[] as $c | ($runs | run_of($s; $c)) as $r
                    | ($r.connect_ms_mean | if . == null then "" else sig3 end),
                      ($r.exchange_ms_mean | if . == null then "" else sig3 end)]
          | md_row])
    | join("\n") end;

def s5_rates: [.[] | select(.scenario == "S5") | .rate] | unique;

# S5: p99 latency (ms) against offered rate, per server, and the knee.
def table_s5($limit_us):
  . as $runs | [$runs[] | select(.scenario == "S5")] as $s5
  | if ($s5 | length) == 0 then "" else
    ($s5 | s5_rates) as $rates
    | ([["server"] + ($rates | map("p99 ms @ \(.)/s")) + ["achieved at last step", "highest rate without errors, p99 ≤ \($limit_us / 1000) ms"] | md_row,
        (["---"] + ($rates | map("---:")) + ["---:", "---:"] | md_row)]
       + [($s5 | servers)[] as $s
          | [$s5[] | select(.server == $s)] as $mine
          | [$s] + [$rates[] as $r | ($mine | map(select(.rate == $r)) | last) as $x
                    | if $x == null then "" elif ($x.requests // 0) == 0 then "–" + ($x | mark)
                      else (($x.latency_us.p99 | ms | sig3) + ($x | mark)) end]
            + [($mine | last | "\(.throughput_rps | commas)/s of \(.rate)"),
               ([$mine[] | select(.status == "ok" and .latency_us.p99 != null and .latency_us.p99 <= $limit_us) | .rate] | max
                | if . == null then "none" else tostring end
                | if . == ($rates | max | tostring) and ($mine | length) == ($rates | length) then "≥ " + . else . end)]
          | md_row])
    | join("\n") end;

# S7 (seed 000): each server's calls/s, latency, CPU and system calls per
# call, its ratios to the fastest libzmq server of the run, and the seed's
# figure for the libzmq variant it reproduces.
def seed000: {"zmq-single": "9,895 / 0.101 ms (single thread raw zmq)",
              "zmq-poll": "12,574 / 0.080 ms (zmq with poller)",
              "zmq-workers": "9,702 / 0.103 ms (zmq with threads)"};
def table_s7:
  [.[] | select(.scenario == "S7")] as $r
  | ([$r[] | select(.kind == "zmq" and .status != "failed" and .throughput_rps != null)]
     | max_by(.throughput_rps)) as $best
  | ($best.server // "libzmq") as $bn
  | ([["server", "calls/s", "mean ms", "p99 ms", "CPU µs/call", "syscalls/call",
       "calls/s ÷ \($bn)", "CPU/call ÷ \($bn)", "seed 000: RPS / mean"] | md_row,
      (["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---"] | md_row)]
     + [$r[] | . as $x
        | [$x.server + ($x | mark), ($x.throughput_rps | commas), ($x.latency_us.mean | ms | sig3),
           ($x.latency_us.p99 | ms | sig3),
           ($x | cpu_total | if . == null then "" else sig3 end),
           ($x.syscalls_per_req | if . == null then "" else sig3 end),
           (if ($best.throughput_rps // 0) > 0 and $x.throughput_rps != null
            then ($x.throughput_rps / $best.throughput_rps | round_to(2) | tostring) else "" end),
           (if ($best | cpu_total // 0) > 0 and ($x | cpu_total) != null
            then (($x | cpu_total) / ($best | cpu_total) | round_to(2) | tostring) else "" end),
           (seed000[$x.server] // "")] | md_row])
  | join("\n");

# CPU per request (µs, user + sys) and syscalls per request.
def table_cpu:
  . as $runs | ($runs | cases) as $cs
  | ([["server"] + $cs | md_row, (["---"] + ($cs | map("---:")) | md_row)]
     + [($runs | servers)[] as $s
        | [$s] + [$cs[] as $c | ($runs | run_of($s; $c)) as $r
                  | if $r == null or ($r | cpu_total) == null then ""
                    else "\($r.cpu_user_us_per_req | sig3) + \($r.cpu_sys_us_per_req | sig3)\($r | cpu_mark)"
                         + (if $r.syscalls_per_req != null then " (\($r.syscalls_per_req | sig3) sc)" else "" end) end]
        | md_row])
  | join("\n");

# Every run, one line each.
def table_runs:
  ([["#", "server", "workers", "case", "tool", "status", "req/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms",
     "errors", "CPU user µs/req", "CPU sys µs/req", "syscalls/req", "other %", "raw"] | md_row,
    (["---:", "---", "---:", "---", "---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---"] | md_row)]
   + [.[] | [.id, .server, (.workers // "" | tostring), .case, .tool, .status, (.throughput_rps | commas),
             (.latency_us.p50 | ms | sig3), (.latency_us.p90 | ms | sig3), (.latency_us.p99 | ms | sig3),
             (.latency_us.p999 | ms | sig3), (.latency_us.max | ms | sig3),
             (.errors | if . == null then "–" else tostring end),
             ((.cpu_user_us_per_req | sig3) + cpu_mark), ((.cpu_sys_us_per_req | sig3) + cpu_mark),
             (.syscalls_per_req | if . == null then "" else sig3 end),
             (.other_cpu_pct | if . == null then "" else round | tostring end),
             "[\(.id)](\(.raw).out)"] | md_row])
  | join("\n");

# ---- chart data (tab-separated, "-" where missing) ----------------------------

def tsv_row: map(if . == null then "-" else tostring end) | join("\t");

# Rows: cases; columns: servers; cells: f applied to the run.
def tsv_by_case(f):
  . as $runs | ($runs | servers) as $ss
  | ([["case"] + $ss | tsv_row]
     + [($runs | cases)[] as $c
        | [$c] + [$ss[] as $s | ($runs | run_of($s; $c)) | if . == null or .status == "failed" then null else f end] | tsv_row])
  | join("\n");

def tsv_throughput: tsv_by_case(.throughput_rps | if . == null then null else round end);

def tsv_ratio($base):
  . as $runs
  | tsv_by_case(. as $r | ($runs | baseline_rps($base; $r.case)) as $b
                | if $b == null or $b == 0 or $r.throughput_rps == null then null else ($r.throughput_rps / $b | round_to(3)) end);

# Rows: servers; columns: cases; cells: CPU µs per request.
def tsv_cpu:
  . as $runs | ($runs | cases) as $cs
  | ([["server"] + $cs | tsv_row]
     + [($runs | servers)[] as $s
        | [$s] + [$cs[] as $c | ($runs | run_of($s; $c)) | if . == null then null else (cpu_total | round_to(2)) end] | tsv_row])
  | join("\n");

# Rows: offered rates; columns: servers; cells: p99 latency in ms.
def tsv_s5:
  . as $runs | [$runs[] | select(.scenario == "S5")] as $s5
  | ($s5 | servers) as $ss
  | ([["rate"] + $ss | tsv_row]
     + [($s5 | s5_rates)[] as $r
        | [$r] + [$ss[] as $s | ($s5 | map(select(.server == $s and .rate == $r)) | last)
                  | if . == null or .latency_us.p99 == null or (.requests // 0) == 0 then null
                    else (.latency_us.p99 / 1000 | round_to(3)) end] | tsv_row])
  | join("\n");

# ---- CSV of every run ------------------------------------------------------------

def csv_columns: ["id", "server", "kind", "model", "workers", "scenario", "case", "tool", "rate", "status", "rc",
  "duration_s", "requests", "throughput_rps", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "mean_us",
  "errors", "connect_ms_mean", "exchange_ms_mean", "server_requests", "server_errors", "cpu_user_s", "cpu_sys_s",
  "cpu_clamped",
  "cpu_user_us_per_req", "cpu_sys_us_per_req", "syscalls", "syscalls_per_req", "other_cpu_pct", "wall_s", "command"];

def csv_of_runs:
  (csv_columns | @csv),
  (.[] | . as $r | [csv_columns[] as $k
     | if ($k | endswith("_us")) and ($k | startswith("p") or startswith("max") or startswith("mean"))
       then $r.latency_us[$k | rtrimstr("_us")] else $r[$k] end] | @csv);
