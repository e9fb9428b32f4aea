# Server CPU time per request (user + sys, µs) by server, one bar per
# scenario, log scale.
#   gnuplot -e "datafile='cpu.tsv'; outbase='cpu'" bench/plot/cpu.gp
# Data: first row "server" then one column per scenario; one row per server.
if (!exists("datafile")) datafile = "cpu.tsv"
if (!exists("outbase")) outbase = "cpu"
load "bench/plot/common.gp"
set title "Server CPU per request (user + sys, µs, log scale)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 noborder
set logscale y
set ylabel "µs of CPU per request"
set xtics rotate by -25 scale 0
do for [t in "png svg"] {
    if (t eq "png") { set terminal pngcairo size 1500,650 font "sans,10" } \
    else { set terminal svg size 1500,650 font "sans,10" }
    set output outbase.".".t
    plot for [i = 2:*] datafile using i:xtic(1) title columnheader(i)
    unset output
}
