# S5: p99 latency against offered rate for /delay/50, one line per server.
#   gnuplot -e "datafile='s5-latency.tsv'; outbase='s5-latency'; limit_ms='100'" bench/plot/s5.gp
# Data: first row "rate" then one column per server; rows: offered rates.
if (!exists("datafile")) datafile = "s5-latency.tsv"
if (!exists("outbase")) outbase = "s5-latency"
if (!exists("limit_ms")) limit_ms = "100"
load "bench/plot/common.gp"
set title "S5: p99 latency of GET /delay/50 against offered rate"
set logscale x 2
set logscale y
set xlabel "offered rate (requests/s)"
set ylabel "p99 latency (ms)"
set grid xtics ytics lc rgb "#d0d0d0"
set yrange [20:*]
set offsets graph 0.05, graph 0.05, 0, 0
set ytics ("20" 20, "50" 50, "100" 100, "200" 200, "500" 500, "1 s" 1000, "2 s" 2000, "5 s" 5000, "10 s" 10000, "20 s" 20000, "50 s" 50000)
do for [t in "png svg"] {
    if (t eq "png") { set terminal pngcairo size 1100,650 font "sans,10" } \
    else { set terminal svg size 1100,650 font "sans,10" }
    set output outbase.".".t
    plot for [i = 2:*] datafile using 1:i:xtic(1) with linespoints title columnheader(i), \
         (limit_ms + 0) with lines dt 2 lw 1 lc rgb "#d62728" title "p99 limit (".limit_ms." ms)", \
         50 with lines dt 3 lw 1 lc rgb "#606060" title "the delay (50 ms)"
    unset output
}
