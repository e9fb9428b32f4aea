# Seed 003's knee: p99 latency of GET /delay/50 against offered rate, one
# line per server (S5 and S11 together), the seed's rates marked.
#   gnuplot -e "datafile='knee.tsv'; outbase='knee'" bench/plot/knee.gp
# Data: first row "rate" then one column per server; rows: offered rates.
if (!exists("datafile")) datafile = "knee.tsv"
if (!exists("outbase")) outbase = "knee"
load "bench/plot/common.gp"
set title "Seed 003's knee: p99 of GET /delay/50 against offered rate (dotted: the seed's rates)"
set logscale x 2
set logscale y
set xlabel "offered rate (requests/s)"
set ylabel "p99 latency (ms)"
set grid ytics lc rgb "#d0d0d0"
set yrange [20:*]
set ytics ("20" 20, "50" 50, "100" 100, "200" 200, "500" 500, "1 s" 1000, "2 s" 2000, "5 s" 5000, "10 s" 10000)
do for [r in "1000 1200 1500 3000"] {
    set arrow from first (r + 0), graph 0 to first (r + 0), graph 1 nohead dt 3 lc rgb "#606060"
    set label r at first (r + 0), graph 1.01 center font "sans,8"
}
do for [t in "png svg"] {
    if (t eq "png") { set terminal pngcairo size 1100,650 font "sans,10" } \
    else { set terminal svg size 1100,650 font "sans,10" }
    set output outbase.".".t
    plot for [i = 2:*] datafile using 1:i with linespoints title columnheader(i), \
         100 with lines dt 2 lw 1 lc rgb "#d62728" title "p99 limit (100 ms)", \
         50 with lines dt 3 lw 1 lc rgb "#606060" title "the delay (50 ms)"
    unset output
}
