# jq definitions for bench/compare's "Findings" and "The seeds' tables":
# one paragraph per question of the source articles, every sentence made
# from this run's records (runs.jsonl), and each seed's published table
# beside this run's reproduction.  The text follows the data: where the run
# contradicts a seed's premise it says what the run shows, and where a
# scenario that a question needs was not run it says which -s to add.
# Used as `jq -L bench 'include "findings"; findings'` on the array of runs.

include "report";

# ---- small pieces -----------------------------------------------------------

def ok: . != null and .status != "failed" and (.throughput_rps // 0) > 0;
def has_case($s; $c): run_of($s; $c) | ok;
def ctx: if .ctx_vol_per_req == null then null else .ctx_vol_per_req + (.ctx_invol_per_req // 0) end;
def sc($n): [(.syscalls_top // [])[] | select(.name == $n) | .per_req] | first // 0;
def sc_total: .syscalls_per_req;
# "recvfrom 1.0, sendto 1.0, epoll_wait 0.06": the top names, per request.
def sc_names($k): if .syscalls_top == null then "not measured (no probe)"
  else [.syscalls_top[0:$k][] | select(.per_req >= 0.005) | "\(.name) \(.per_req | sig3)"] | join(", ") end;
def us: cpu_total | sig3;
# The share of one core the server's own CPU time took at its throughput.
def own_pct: if cpu_total == null or .throughput_rps == null then null
  else cpu_total * .throughput_rps / 1e4 end;
# "12 % faster", "about the same" between $a and $b (higher is better).
def cmp_hi($a; $b):
  if $a == null or $b == null or $b == 0 then "not comparable"
  else (($a - $b) / $b * 100) as $d
    | if ($d | fabs) < 5 then "about the same (\($d | round) %)"
      elif $d > 0 then "\($d | round) % more" else "\(- $d | round) % less" end end;
def ratio($a; $b): if $a == null or $b == null or $b == 0 then null else $a / $b end;
def x: if . == null then "–" else (round_to(2) | tostring) + "×" end;
def tot_ms: if .connect_ms_mean == null then null else .connect_ms_mean + (.exchange_ms_mean // 0) end;
def need($s): "(not run: add `-s \($s)`)";
def first_of($cands; f): [$cands[] | select(f)] | first;
def para($title; $lines): "**\($title)** " + ($lines | map(select(. != null and . != "")) | join(" "));

# ---- seed 001 -----------------------------------------------------------------

def s001_cases: ["S8 001-shape", "S9 connect", "S1 w1000", "S1 w150", "S1 w50"];
def case_words($c):
  {"S8 001-shape": "S8 (the seed's shape: W = 100, 50 exchanges of short messages)",
   "S9 connect": "S9 (connect + close, as the seed's client really ran)",
   "S1 w1000": "S1 at W = 1,000", "S1 w150": "S1 at W = 150", "S1 w50": "S1 at W = 50"}[$c] // $c;

# One sentence: who answered a connection sooner in case $c, $a or $b.
def vs_time($runs; $a; $b; $c):
  ($runs | run_of($a; $c)) as $ra | ($runs | run_of($b; $c)) as $rb
  | ($ra | tot_ms) as $ta | ($rb | tot_ms) as $tb
  | if $ta == null or $tb == null then null
    else "In \(case_words($c)) a connection took \($a) \($ta | sig3) ms and \($b) \($tb | sig3) ms (connect + exchanges, the seed's total):"
      + (if ($ta - $tb | fabs) < 0.05 * $tb then " the same within 5 %."
         elif $ta < $tb then " \($a) was \((($tb - $ta) / $tb * 100) | round) % quicker."
         else " \($b) was \((($ta - $tb) / $ta * 100) | round) % quicker." end)
    end;

# Which of $a and $b answered a connection sooner (5 % apart or more) in
# each case of $cs: {a: [cases], b: [cases], level: [cases]}.
def wins($runs; $a; $b; $cs):
  [$cs[] as $k | ($runs | run_of($a; $k) | tot_ms) as $ta | ($runs | run_of($b; $k) | tot_ms) as $tb
   | select($ta != null and $tb != null)
   | {k: $k, w: (if $ta < 0.95 * $tb then "a" elif $tb < 0.95 * $ta then "b" else "level" end)}]
  | {a: [.[] | select(.w == "a") | .k], b: [.[] | select(.w == "b") | .k], level: [.[] | select(.w == "level") | .k]};

def f001_select($runs):
  [s001_cases[] as $c | select(($runs | has_case("select"; $c)) and ($runs | has_case("epoll"; $c))) | $c] as $cs
  | if ($cs | length) == 0 then para("001 — why does epoll lose to select?"; ["Needs select and epoll on S8, S9 or S1 \(need("S8,S9 -m select,epoll"))."])
    else ($cs[0]) as $c | ($runs | run_of("select"; $c)) as $s | ($runs | run_of("epoll"; $c)) as $e
    | para("001 — why does epoll lose to select?";
      [($cs[] as $k | vs_time($runs; "select"; "epoll"; $k)),
       ([$cs[] as $k | ($runs | run_of("select"; $k) | tot_ms) as $ts | ($runs | run_of("epoll"; $k) | tot_ms) as $te
         | select($ts != null and $te != null) | {k: $k, w: (if $ts < 0.95 * $te then "select" elif $te < 0.95 * $ts then "epoll" else "level" end)}]) as $w
       | ([$w[] | select(.w == "select") | .k] | join(", ")) as $ws
       | ([$w[] | select(.w != "select") | .k] | join(", ")) as $we
       | if $ws != "" and $we == "" then "So this run reproduces the seed's ranking (select ahead) in \($ws)."
         elif $ws == "" then "So in this run select does not beat epoll in \($we): the seed's premise does not hold here, in C."
         else "So select is ahead in \($ws) and not in \($we): the seed's ranking holds for that load only." end,
       "Per exchange the server spent \($s | us) µs of CPU with select and \($e | us) µs with epoll; select made \($s.syscalls_per_req | sig3) system calls (\($s | sc_names(4))) and epoll \($e.syscalls_per_req | sig3) (\($e | sc_names(4))).",
       (($runs | run_of("epoll"; "S9 connect")) as $e9
        | ($runs | run_of("select"; "S9 connect")) as $s9
        | if ($e9 | ok) then "On connect-only load (S9) each connection cost epoll \($e9 | us) µs and \($e9.syscalls_per_req | sig3) system calls (\($e9 | sc_names(6)))"
            + (if ($s9 | ok) then " and select \($s9 | us) µs and \($s9.syscalls_per_req | sig3) (\($s9 | sc_names(6)))" else "" end)
            + ": epoll registers every new socket with epoll_ctl (\($e9 | sc("epoll_ctl") | sig3) per connection), which select never does; with connections that carry nothing, that registration, not the wait, is epoll's extra cost."
          elif ($e | sc("epoll_ctl")) > 0.01 then "epoll made \($e | sc("epoll_ctl") | sig3) epoll_ctl calls per exchange (a socket registered per connection; closing it removes it), which select never makes (for the connect-only figure, \(need("S9") | ltrimstr("(") | rtrimstr(")")))."
          else null end),
       "select() was called \((($s | sc("select")) + ($s | sc("pselect6"))) | sig3) times per exchange, each a scan of a bitmap of at most \(if $c == "S1 w1000" then "1,000" else "a few hundred" end) descriptors, cheap at this size; epoll's advantage (no scan) grows with many idle descriptors, which this load does not have."])
    end;

def f001_prefork($runs):
  [s001_cases[] as $c | select(($runs | has_case("prefork"; $c)) and ($runs | has_case("epoll"; $c))) | $c] as $cs
  | if ($cs | length) == 0 then para("001 — why is prefork fast?"; ["Needs prefork and epoll on S8, S9 or S1 \(need("S8 -m prefork,epoll"))."])
    else ($cs[0]) as $c | ($runs | run_of("prefork"; $c)) as $p | ($runs | run_of("epoll"; $c)) as $e
    | para("001 — why is prefork fast, in Python and in C?";
      [($cs[] as $k | vs_time($runs; "prefork"; "epoll"; $k)),
       "In \($c) prefork's \($p.workers // "?") workers cost \($p | us) µs of CPU and \($p | ctx | sig3) context switches per exchange (\($p.ctx_vol_per_req | sig3) voluntary: a worker blocks in recv and is woken), against epoll's \($e | us) µs and \($e | ctx | sig3).",
       (wins($runs; "prefork"; "epoll"; $cs)) as $w
       | (if ($w.a | length) > 0 then "In C prefork is quicker than epoll in \($w.a | join(", "))"
            + (if ($w.a | index("S9 connect")) != null then ((($runs | run_of("prefork"; "S9 connect")) as $p9 | ($runs | run_of("epoll"; "S9 connect")) as $e9
                 | " — on connect-only load a connection cost prefork \($p9 | us) µs and \($p9.syscalls_per_req | sig3) system calls (\($p9 | sc_names(6))) against epoll's \($e9 | us) µs and \($e9.syscalls_per_req | sig3) (\($e9 | sc_names(6)))"
                   + (if ($p9 | cpu_total) != null and ($e9 | cpu_total) != null and ($p9 | cpu_total) > ($e9 | cpu_total)
                      then ": more CPU per connection, yet sooner; the connect time is mostly the wait in the accept queue, and \($p.workers // "its") workers blocked in accept() likely take the next connection with one wake-up, where epoll first finishes the other events of its pass"
                      else ": less work per connection, and \($p.workers // "its") workers take connections side by side" end)))
               else "" end) + "."
          else null end),
       (if ($w.b | length) > 0 then "It is slower in \($w.b | join(", ")): there each exchange or connection costs a worker a wake-up (\($p | ctx | sig3) switches per exchange in \($c)), more than one loop that never sleeps while work is queued."
        else "Where connections carry exchanges it is not slower either: a worker sleeping in the kernel until its socket is ready pays one wake-up per exchange, and no event loop." end),
       "In the seed (Python) prefork ranked 3rd at W = 100 and 1st at W = 1,000: there every event-loop model ran interpreted code per event, while prefork's workers waited in C, in the kernel; in C the loop's per-event code is \($e.cpu_user_us_per_req | sig3) µs of user time per exchange here, so that advantage shrinks to the wake-ups."])
    end;

def f001_async($runs):
  first_of(["S3 evbench", "S8 001-shape", "S1 w150", "S1 w1000", "S3 wrk"]; . as $c | ($runs | has_case("async"; $c)) and ($runs | has_case("epoll"; $c))) as $c
  | if $c == null then para("001 — asyncio vs raw epoll"; ["Needs async and epoll on S3, S8 or S1 \(need("S3 -m async,epoll"))."])
    else ($runs | run_of("async"; $c)) as $a | ($runs | run_of("epoll"; $c)) as $e
    | para("001 — why do asyncio and raw epoll differ?";
      ["evd's async model is an event library in the style of Redis's ae (file events and a timer heap, a callback per event) over the same epoll.",
       "In \($c) it served \($a.throughput_rps | commas) requests/s against raw epoll's \($e.throughput_rps | commas) (\(cmp_hi($a.throughput_rps; $e.throughput_rps))), at \($a | us) µs against \($e | us) µs of CPU per request and \($a.syscalls_per_req | sig3) against \($e.syscalls_per_req | sig3) system calls.",
       (((($a | cpu_total) // 0) - (($e | cpu_total) // 0))) as $d
       | if ($a | cpu_total) == null or ($e | cpu_total) == null then null
         elif ($d | fabs) < 0.05 * ($e | cpu_total) then "The library layer costs nothing measurable in C (within 5 % of CPU per request); the seed's gap between asyncio and its epoll server was Python code per event (tasks, futures, callbacks), not the system calls, which are the same."
         elif $d > 0 then "The library layer costs \($d | sig3) µs per request here (\($d / ($e | cpu_total) * 100 | round) %): dispatch through callbacks and its timer bookkeeping; in the seed that layer was Python (tasks, futures), far dearer per event."
         else "The library is \(- $d | sig3) µs per request cheaper here than the raw loop (user \($a.cpu_user_us_per_req | sig3) against \($e.cpu_user_us_per_req | sig3) µs, system \($a.cpu_sys_us_per_req | sig3) against \($e.cpu_sys_us_per_req | sig3)): with the same system calls, the difference is time spent in them and between them, not the layer's cost\(if ([$a.other_cpu_pct, $e.other_cpu_pct] | map(. // 0) | max) >= 10 then "; other processes took \($a.other_cpu_pct // 0 | round) % and \($e.other_cpu_pct // 0 | round) % of the core during these two runs, so a difference this size may be the machine's" else "" end)." end])
    end;

# ---- seed 002 -----------------------------------------------------------------

def f002($runs):
  first_of(["epoll", "async", "uring", "select"]; . as $s | ($runs | has_case($s; "S3 evbench")) and (($runs | has_case($s; "S10 evbench")) or ($runs | has_case($s; "S4 evbench")))) as $s
  | if $s == null then para("002 — where does the gain from pipelining come from?"; ["Needs S3 and S10 (or S4) on one model \(need("S3,S10"))."])
    else ($runs | run_of($s; "S3 evbench")) as $one
    | (if ($runs | has_case($s; "S10 evbench")) then ($runs | run_of($s; "S10 evbench")) else ($runs | run_of($s; "S4 evbench")) end) as $p
    | (if $p.scenario == "S10" then 24 else 16 end) as $depth
    | ((($p | sc("sendto")) + ($p | sc("writev")) + ($p | sc("write")) + ($p | sc("sendmsg")))) as $w
    | para("002 — where does the gain from pipelining come from?";
      ["With \($s), one request per round trip (S3) gave \($one.throughput_rps | commas) requests/s; \($depth) pipelined per write (\($p.scenario)) gave \($p.throughput_rps | commas): \(ratio($p.throughput_rps; $one.throughput_rps) | x)\(if $p.client_bound then " (the client's core was saturated: the server could do more)" else "" end).",
       "System calls per request fell from \($one.syscalls_per_req | sig3) (\($one | sc_names(3))) to \($p.syscalls_per_req | sig3) (\($p | sc_names(3))): \(ratio($one.syscalls_per_req; $p.syscalls_per_req) | x) fewer.",
       (if $w > 0 then "evd wrote \($w * $depth | sig3) times per batch of \($depth): all the replies parsed from one read go out in one write, as Japronto does." else null end),
       (ratio($one | cpu_total; $p | cpu_total)) as $cr | (ratio($one.syscalls_per_req; $p.syscalls_per_req)) as $sr
       | "CPU per request fell from \($one | us) to \($p | us) µs (\($cr | x))"
         + (if $cr == null or $sr == null then "."
            elif $cr >= 0.5 * $sr then ", in step with the system calls: the gain is the calls (and the wake-ups) a batch shares, not faster parsing; the seed's 10× is \(ratio($p.throughput_rps; $one.throughput_rps) | x) here."
            else ", much less than the system calls fell: per-request work other than the calls (parsing, building replies) is what is left." end),
       ("S10" as $c | ($runs | run_of("nginx"; "S10 wrk")) as $n
        | if ($n | ok) then "nginx, 24 deep through wrk: \($n.throughput_rps | commas) requests/s at \($n | us) µs per request (its system calls are not measured: no probe)." else null end),
       (if ($p.cpu_user_us_per_req // 0) > 0 then "On one core that is a capacity of \($p.capacity_rps | commas) requests/s (1 / CPU per request); the seed's Japronto made 1,214,440 on one core of a c4.2xlarge." else null end)])
    end;

# ---- seed 003 -----------------------------------------------------------------

def knee_rate($rs; $limit): [$rs[] | select(.status == "ok" and .latency_us.p99 != null and .latency_us.p99 <= $limit) | .rate] | max;
def blocking_model: IN("iterative", "fork", "thread", "prefork", "prethread");

def f003_scen($runs; $scen; $handler_ms):
  [$runs[] | select(.scenario == $scen)] as $rs
  | ($rs | servers) as $ss
  | ($handler_ms * 2000) as $limit
  | [$ss[] as $s | [$rs[] | select(.server == $s)] as $mine
     | ($mine | map(.rate) | max) as $top
     | ($mine | map(select(.rate == $top)) | last) as $t
     # The rates missed: an error, no reply in time, or p99 over the limit.
     | [($mine | map(.rate) | unique)[] as $r | ($mine | map(select(.rate == $r)) | last)
        | select(.status != "ok" or .latency_us.p99 == null or .latency_us.p99 > $limit)] as $missed
     | if ($missed | length) == 0 then {s: $s, held: true, top: $top, p99: $t.latency_us.p99}
       else {s: $s, held: false, top: $top, model: $t.model, workers: $t.workers, missed: $missed,
             fail: ($missed | first)} end] as $v
  | ([$runs[] | .other_cpu_pct | select(. != null)] | sort | if length > 0 then .[length / 2 | floor] else null end) as $other
  | ([$v[] | select(.held) | .s] | join(", ")) as $held
  | [(if $held != "" then "\($held) held every rate up to \($v | map(.top) | max | commas) req/s with p99 ≤ \($handler_ms * 2) ms" else null end),
     ($v[] | select(.held | not)
      | "\(.s) missed " + ([.missed[] | "\(.rate | commas) req/s (p99 \(.latency_us.p99 | ms | sig3) ms\(mark))"] | join(", ")) + " of the \($rs | map(.rate) | unique | length) rates"
        + (if (.model | blocking_model) and (.workers // 0) > 0
           then (.workers * 1000 / $handler_ms) as $bound
             | ([.missed[] | select(.rate >= 0.9 * $bound) | .rate | commas] | join(", ")) as $above
             | ([.missed[] | select(.rate < 0.9 * $bound)] | first) as $below
             | " — \(.workers) blocking workers held \($handler_ms) ms each serve at most \(.workers) / \($handler_ms / 1000) = \($bound | commas) req/s"
               + (if $above != "" then ": at \($above) req/s the pool size is the knee, not the CPU" else "" end)
               + (if $below != null then "\(if $above != "" then "; " else ": " end)at \($below.rate | commas) req/s, below that bound, the pool is not the whole reason: its own CPU was \($below | own_pct | sig3) % of its core\(if ($other // 0) >= 10 then " while other processes took a median \($other | round) %" else "" end), with \($below.ctx_vol_per_req | sig3) voluntary context switches per request" else "" end)
           elif (.fail | own_pct) != null and (.fail | own_pct) < 50 and ($other // 0) >= 10
           then " — its own CPU was \(.fail | own_pct | round) % of its core at that rate while other processes took a median \($other | round) % of it in this run: the late replies waited for the machine, not for the model"
           else "" end))]
  | join("; ");

def f003($runs):
  [$runs[] | select(.scenario == "S11")] as $s11
  | if ($s11 | length) == 0 then para("003 — where does the CPU go, and where is the knee?"; ["Needs S11 \(need("S11"))."])
    else (first_of(["epoll", "async", "uring", "select"]; . as $m | any($s11[]; .server == $m)) // ($s11[0].server)) as $m
    | [$s11[] | select(.server == $m)] as $mine
    | ($mine | map(select(.rate == 1000)) | last // $mine[0]) as $lo
    | ($mine | max_by(.rate)) as $hi
    | [$runs[] | select(.scenario == "S12")] as $s12
    | para("003 — where does the CPU go, how much is waiting, and where is the knee at a 50 ms handler?";
      ["With \($m) at \($lo.rate | commas) req/s of /delay/50 the server spent \($lo | us) µs of CPU per request (user \($lo.cpu_user_us_per_req | sig3), system \($lo.cpu_sys_us_per_req | sig3)) in \($lo.syscalls_per_req | sig3) system calls (\($lo | sc_names(4))).",
       "That is \($lo | own_pct | sig3) % of its core; the other \(100 - ($lo | own_pct // 0) | sig3) % it waited — every request spends 50 ms on a timer, none of it on the CPU\(if $hi.rate != $lo.rate then "; at \($hi.rate | commas) req/s it was \($hi | own_pct | sig3) % busy at \($hi | us) µs per request (p50 \($hi.latency_us.p50 | ms | sig3), p90 \($hi.latency_us.p90 | ms | sig3), p99 \($hi.latency_us.p99 | ms | sig3) ms)" else "" end).",
       "At the seed's rates: " + f003_scen($runs; "S11"; 50) + ".",
       (if ($s12 | length) > 0 then "With the seed's second handler (/delay/50,25,50, 125 ms of waits in sequence, S12): " + f003_scen($runs; "S12"; 125) + "."
        else "The 125 ms handler (S12) did not run here: add `-s S12` with an evd that serves /delay/50,25,50 (the Notes say why it was skipped)." end),
       "The seed saw aiohttp hold 3,000 req/s and Tornado give up at 1,200–1,500: a Python loop's CPU per request is what ran out. Here \($m)'s \($hi | us) µs per request at \($hi.rate | commas) req/s puts its CPU limit near \($hi.capacity_rps | commas) req/s on one core, \(if ($hi.capacity_rps // 0) > 3000 then "above the seed's rates: a knee among them is not the CPU" else "within the seed's rates: the CPU is the knee" end)."])
    end;

# ---- seed 004 -----------------------------------------------------------------

def f004_pool($runs):
  first_of(["S3 evbench", "S8 001-shape", "S1 w150", "S1 w1000"]; . as $c | ($runs | has_case("select-prethread"; $c)) and ($runs | has_case("select"; $c))) as $c
  | if $c == null then para("004 — why did the thread pool make it slower?"; ["Needs select-prethread and select on S3, S8 or S1 \(need("S3 -m select,select-prethread"))."])
    else ($runs | run_of("select-prethread"; $c)) as $t | ($runs | run_of("select"; $c)) as $s
    | para("004 — why did the thread pool make it slower?";
      ["evd's select-prethread hands each reply from its select() thread to a pool of \($t.workers // "?") threads, as the seed's thread-pool variant did.",
       "In \($c) it served \($t.throughput_rps | commas) requests/s against plain select's \($s.throughput_rps | commas) (\(cmp_hi($t.throughput_rps; $s.throughput_rps))).",
       "Per request it cost \($t | us) µs of CPU against \($s | us), \($t | ctx | sig3) context switches against \($s | ctx | sig3), and \($t | sc("futex") | sig3) futex calls (lock waits and wake-ups) against \($s | sc("futex") | sig3).",
       (if ($t.throughput_rps // 0) < ($s.throughput_rps // 0) * 0.95
        then "That is where the pool loses: every request crosses threads, so it pays a wake-up (a futex call and a context switch) that the single thread never pays, while the work handed over — one send — is smaller than the hand-off."
        else "So here the pool did not make it slower in requests/s; its cost shows in CPU and switches per request instead." end)])
    end;

def f004_conn($runs):
  [$runs[] | select(.scenario == "S13" and ok)] as $r
  | if ($r | length) == 0 then para("004 — an event library vs raw epoll vs Redis's ae, in connections/s"; ["Needs S13 \(need("S13"))."])
    else ([$r[] | select(.client_bound)] | length) as $cb
    | para("004 — an event library vs raw epoll vs Redis's ae, in connections/s";
      ["A connection per request (connect, PING, +PONG, close; S13): " + ([$r[] | "\(.server) \(.throughput_rps | commas) conn/s\(if .errors > 0 then " with \(.errors) errors" else "" end)"] | join(", ")) + ".",
       (if $cb > 0
        then "The client's core was saturated in \($cb) of these \($r | length) runs (≥ 90 % busy while the server's was not), so those conn/s measure the client; the server's own figure is its CPU per connection, and one core's capacity is its inverse: " + ([$r[] | "\(.server) \(.| us) µs (\(.capacity_rps | commas) conn/s)"] | join(", ")) + "."
        else "CPU per connection: " + ([$r[] | "\(.server) \(. | us) µs (\(.capacity_rps | commas) conn/s on one core)"] | join(", ")) + "." end),
       (($r | map(select(.server == "async")) | last) as $a | ($r | map(select(.server == "epoll")) | last) as $e
        | if $a != null and $e != null and ($a | cpu_total) != null and ($e | cpu_total) != null
          then ((($a | cpu_total) - ($e | cpu_total))) as $d | "The library (async) costs \($d | fabs | sig3) µs per connection \(if $d >= 0 then "more" else "less" end) than raw epoll (\(ratio($a | cpu_total; $e | cpu_total) | x)); per connection both make \($e.syscalls_per_req | sig3)–\($a.syscalls_per_req | sig3) system calls (\($e | sc_names(5)))." else null end),
       (($r | map(select(.server == "redis")) | last) as $d
        | if $d != null then "redis-server lost \($d.errors // 0) connections here (the seed saw Redis's ae unstable, 19k–37k conn/s, with visible connection loss), and made \($d | ctx | sig3) context switches per connection." else null end)])
    end;

# ---- seed 000 -----------------------------------------------------------------

def f000($runs):
  [$runs[] | select(.scenario == "S7" and ok)] as $r
  | if ($r | length) == 0 then para("000 — what does each layer cost per call?"; ["Needs S7 \(need("S7"))."])
    else ($r | map(select(.server == "zmq-single")) | last) as $z1
    | ($r | map(select(.server == "zmq-poll")) | last) as $z2
    | ($r | map(select(.server == "zmq-workers")) | last) as $z3
    | (first_of(["epoll", "async", "uring"]; . as $m | any($r[]; .server == $m)) // ($r | map(select(.kind == "evd")) | first | .server)) as $m
    | ($r | map(select(.server == $m)) | last) as $e
    | para("000 — what does each layer cost per call?";
      [(if $z1 != null then "libzmq alone (one thread, recv and send on a ROUTER) costs \($z1 | us) µs of CPU and \($z1.syscalls_per_req | sig3) system calls per call" else "The libzmq reference servers did not run (make bench-zmq)" end)
       + (if $z1 != null and $z2 != null then ((($z2 | cpu_total) - ($z1 | cpu_total))) as $d
          | if ($d | fabs) < 0.05 * ($z1 | cpu_total) then "; adding zmq_poll costs nothing measurable (\($d | sig3) µs)" else "; adding zmq_poll costs \($d | sig3) µs" end else "" end)
       + (if $z1 != null and $z3 != null then "; handing each call to a worker thread over inproc costs \((($z3 | cpu_total) - ($z1 | cpu_total)) | sig3) µs and \($z3.syscalls_per_req - $z1.syscalls_per_req | sig3) more system calls" else "" end) + ".",
       (if $e != null then "evd \($m) — transport, ZMTP framing and the RPC dispatch in one loop — costs \($e | us) µs and \($e.syscalls_per_req | sig3) system calls per call, at \($e.throughput_rps | commas) calls/s" + (if $z1 != null then " against libzmq's \($z1.throughput_rps | commas) (\(cmp_hi($e.throughput_rps; $z1.throughput_rps)))" else "" end) + "." else null end),
       "The seed's aiozmq RPC (2,469 RPS) against its raw zmq loop (9,895) put 3/4 of a call's time in Python's RPC packing and dispatch; here the dispatch is a table lookup inside the parser, and what is left per call is the system calls."])
    end;

# A caveat when other processes took much of the server's CPU in this run.
def noise($runs):
  ([$runs[] | .other_cpu_pct | select(. != null)] | sort) as $v
  | if ($v | length) == 0 then null
    else $v[($v | length) / 2 | floor] as $med
    | if $med >= 10 then "**Caveat.** Other processes took a median \($med | round) % of the server's CPU during these runs (the \"other %\" column): requests/s and latencies are low and noisy by about that much; CPU, system calls and context switches per request are the steadier figures, and the paragraphs lean on them." else null end
    end;

def findings:
  . as $runs
  | [noise($runs), f001_select($runs), f001_prefork($runs), f001_async($runs), f002($runs), f003($runs),
     f004_pool($runs), f004_conn($runs), f000($runs)] | map(select(. != null)) | join("\n\n");

# ---- the seeds' tables beside this run -----------------------------------------

def t001($runs):
  {"select": "select", "epoll": "epoll", "prefork": "prefork", "prethread": "preThread",
   "select-prethread": "select + prethread", "async": "asyncio", "thread": "–", "fork": "–"} as $names
  | {"select": ["0.35244", "0.00131", "0.53973", "0.00118"], "epoll": ["0.32977", "0.00139", "0.61166", "0.00113"],
     "prefork": ["0.04151", "0.00004", "0.33203", "0.00122"], "prethread": ["0.42452", "0.00170", "0.98197", "0.00114"],
     "select-prethread": ["0.23038", "0.00119", "0.63557", "0.00121"], "async": ["0.18910", "0.00099", "0.43914", "0.00069"]} as $seed
  | [$runs[] | select(.scenario == "S8" or .scenario == "S9" or .case == "S1 w1000")] as $r
  | ["Seed 001 (Python 3 servers and client, a Sakura VPS, Westmere CPU; \"Linux\" table, seconds per connection): connect / send-recv at 100 and 1,000 concurrent workers, beside evd's S8 (W = 100, A = \($r | map(select(.scenario == "S8")) | first | (.command // "") | capture("--actions (?<a>[0-9]+)")? | .a // "?"), 50 exchanges of 16 bytes), S9 (connect + close) and S1 at W = 1,000, in ms per connection.",
     "",
     (["model (seed's name)", "seed W=100 connect s", "seed W=100 send/recv s", "seed W=1000 connect s", "seed W=1000 send/recv s",
       "S8 connect ms", "S8 exchanges ms", "S9 connect ms", "S1 w1000 connect ms", "S1 w1000 exchanges ms"] | md_row),
     (["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"] | md_row),
     ($r | servers)[] as $s
     | ([$s + (if $names[$s] then " (\($names[$s]))" else "" end)]
        + ($seed[$s] // ["", "", "", ""])
        + [($r | run_of($s; "S8 001-shape") | .connect_ms_mean | sig3), ($r | run_of($s; "S8 001-shape") | .exchange_ms_mean | sig3),
           ($r | run_of($s; "S9 connect") | .connect_ms_mean | sig3),
           ($r | run_of($s; "S1 w1000") | .connect_ms_mean | sig3), ($r | run_of($s; "S1 w1000") | .exchange_ms_mean | sig3)]
        | md_row)]
  | join("\n");

def t002($runs):
  [$runs[] | select(.scenario == "S10" and ok)] as $r
  | ["Seed 002: Japronto (Python 3.6 with its C core, picohttpparser, uvloop), one core of an AWS c4.2xlarge (Xeon E5-2666 v3, 2.9 GHz), wrk -t1 -c100 with 24 pipelined requests: **1,214,440 requests/s**. evd's S10 is the same client shape here:",
     "",
     (["server", "client", "requests/s", "CPU µs/request (user + sys)", "capacity on one core (req/s)", "syscalls/request", "writes per batch of 24", "client-bound"] | md_row),
     (["---", "---", "---:", "---:", "---:", "---:", "---:", "---"] | md_row),
     ($r[] | [.server, .tool, (.throughput_rps | commas), "\(.cpu_user_us_per_req | sig3) + \(.cpu_sys_us_per_req | sig3)",
              (.capacity_rps | commas), (.syscalls_per_req | if . == null then "not measured" else sig3 end),
              (if .syscalls_top == null then "not measured" else ((sc("sendto") + sc("writev") + sc("write") + sc("sendmsg")) * 24 | sig3) end),
              (if .client_bound then "yes (client core \(.client_busy_pct) %)" else "no" end)] | md_row)]
  | join("\n");

def t003($runs):
  [$runs[] | select(.scenario == "S11" or .scenario == "S12")] as $r
  | ["Seed 003 (Python 3.6.5, aiohttp 3.4.4 and Tornado 5.1.1, a Xeon E5 v4 at 3.6 GHz, 300 s per rate): with a 50 ms handler aiohttp was fine at 1,000 req/s and far from its limit at 3,000; Tornado began to give up at 1,200 and had given up at 1,500. With three backend waits (125 ms) aiohttp degraded at 2,300–2,400 req/s (further with uvloop). The seed showed percentiles as charts, not a table. evd, p50 / p90 / p99 in ms at each of the seed's rates:",
     "",
     (["server", "scenario"] + ([$r[].rate] | unique | map("\(. | commas)/s")) | md_row),
     (["---", "---"] + ([$r[].rate] | unique | map("---:")) | md_row),
     (($r | servers)[] as $s | ["S11", "S12"][] as $sc
      | [$r[] | select(.server == $s and .scenario == $sc)] as $mine
      | select(($mine | length) > 0)
      | ([$s, (if $sc == "S11" then "S11 /delay/50" else "S12 /delay/50,25,50" end)]
         + [([$r[].rate] | unique)[] as $rate | ($mine | map(select(.rate == $rate)) | last)
            | if . == null then "" else "\(.latency_us.p50 | ms | sig3) / \(.latency_us.p90 | ms | sig3) / \(.latency_us.p99 | ms | sig3)\(mark)" end])
      | md_row)]
  | join("\n");

def t004($runs):
  [$runs[] | select((.scenario == "S13" or .scenario == "S2") and ok)] as $r
  | ["Seed 004 (Python 2 servers and client, an i3-3220 at 3.3 GHz, 1 Gb/s; connect, 100 bytes each way, close), connections/s: raw epoll **20,118**; the event library **13,107**, then **18,125** simplified to one process; Redis ae **19,152–37,816**, unstable, with connection loss; the library with a thread pool **800** (100 Mb/s). evd here (S2: echo of 100 bytes; S13: RESP PING):",
     "",
     (["server", "scenario", "conn/s", "errors", "CPU µs/conn", "capacity on one core (conn/s)", "ctx switches/conn", "server core busy % (own)", "client core busy % (own)", "client-bound"] | md_row),
     (["---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---"] | md_row),
     ($r[] | [.server, .scenario, (.throughput_rps | commas), (.errors // 0), (. | us), (.capacity_rps | commas), (ctx | sig3),
              "\(.server_busy_pct | sig3) (\(.server_own_pct | sig3))", "\(.client_busy_pct | sig3) (\(.client_own_pct | sig3))", (if .client_bound then "yes" else "no" end)] | md_row)]
  | join("\n");

def seed_tables:
  . as $runs
  | ["### Seed 001", "", t001($runs), "", "### Seed 002", "", t002($runs), "", "### Seed 003", "", t003($runs), "",
     "### Seed 004", "", t004($runs), "", "### Seed 000", "",
     "Seed 000's table (aiozmq and pyzmq servers, Python, 10 clients × 10,000 calls) is in the S7 section below, beside each server of this run."]
  | join("\n");

# ---- per-run metrics table and chart data ---------------------------------------

# The run metrics of issue 17, one line per run.
def table_metrics:
  ([["#", "server", "case", "req/s", "CPU user µs/req", "CPU sys µs/req", "capacity req/s", "syscalls/req (top 8 by name)",
     "vol. ctx/req", "invol. ctx/req", "server core busy % (own)", "client core busy % (own)", "RSS MiB", "bound"] | md_row,
    (["---:", "---", "---", "---:", "---:", "---:", "---:", "---", "---:", "---:", "---:", "---:", "---:", "---"] | md_row)]
   + [.[] | [.id, .server, .case, (.throughput_rps | commas), (.cpu_user_us_per_req | sig3), (.cpu_sys_us_per_req | sig3),
             (.capacity_rps | commas),
             (if .syscalls_top == null then (if .kind == "evd" then "–" else "not measured (no probe)" end)
              else "\(.syscalls_per_req | sig3): " + sc_names(8) end),
             (.ctx_vol_per_req | sig3) + (if .model | IN("fork", "thread") then "≥" else "" end),
             (.ctx_invol_per_req | sig3) + (if .model | IN("fork", "thread") then "≥" else "" end),
             "\(.server_busy_pct | sig3) (\(.server_own_pct | sig3))", "\(.client_busy_pct | sig3) (\(.client_own_pct | sig3))",
             (.rss_kb | if . == null then "–" else . / 1024 | sig3 end),
             (if .client_bound then "client" else "" end)] | md_row])
  | join("\n");

# The scenario each model's chart bars come from: keep-alive HTTP (S3, evbench).
def chart_run($s): . as $runs | first_of(["S3 evbench", "S3 wrk"]; . as $c | ($runs | has_case($s; $c))) as $c
  | if $c == null then null else ($runs | run_of($s; $c)) end;

# Rows: servers; columns: the system call names seen; cells: per request.
def tsv_syscalls:
  . as $runs | [($runs | servers)[] as $s | ($runs | chart_run($s)) | select(. != null and .syscalls_top != null)] as $r
  | ([$r[].syscalls_top[] | select(.per_req >= 0.005) | .name] | unique) as $names
  | ([["server"] + $names | tsv_row]
     + [$r[] | . as $x | [$x.server] + [$names[] as $n | ($x | sc($n)) | round_to(3)] | tsv_row])
  | join("\n");

def tsv_cpu_split:
  . as $runs | [($runs | servers)[] as $s | ($runs | chart_run($s)) | select(. != null and cpu_total != null)] as $r
  | ([["server", "user", "sys"] | tsv_row]
     + [$r[] | [.server, (.cpu_user_us_per_req | round_to(3)), (.cpu_sys_us_per_req | round_to(3))] | tsv_row])
  | join("\n");

def tsv_ctx:
  . as $runs | [($runs | servers)[] as $s | ($runs | chart_run($s)) | select(. != null and .ctx_vol_per_req != null)] as $r
  | ([["server", "voluntary", "involuntary"] | tsv_row]
     + [$r[] | [.server, (.ctx_vol_per_req | round_to(4)), (.ctx_invol_per_req | round_to(4))] | tsv_row])
  | join("\n");

# Rows: S11 rates; columns: servers; cells: p99 ms (the 003 knee chart).
def tsv_knee:
  . as $runs | [$runs[] | select(.scenario == "S11" or .scenario == "S5")] as $r
  | ($r | servers) as $ss
  | ([$r[].rate] | unique) as $rates
  | ([["rate"] + $ss | tsv_row]
     + [$rates[] as $x | [$x] + [$ss[] as $s | ($r | map(select(.server == $s and .rate == $x and (.requests // 0) > 0)) | last)
        | if . == null or .latency_us.p99 == null then null else (.latency_us.p99 / 1000 | round_to(3)) end] | tsv_row])
  | join("\n");
