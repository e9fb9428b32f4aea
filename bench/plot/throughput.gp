# Throughput of every server in every scenario (not S5), log scale.
#   gnuplot -e "datafile='throughput.tsv'; outbase='throughput'" bench/plot/throughput.gp
# Data: tab-separated, first row "case" then one column per server; "-" = none.
if (!exists("datafile")) datafile = "throughput.tsv"
if (!exists("outbase")) outbase = "throughput"
load "bench/plot/common.gp"
set title "Throughput by scenario and server (requests/s, log scale)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 noborder
set logscale y
set format y "%.0s%c"
set ylabel "requests/s"
set xtics rotate by -25 scale 0
do for [t in "png svg"] {
    if (t eq "png") { set terminal pngcairo size 1500,650 font "sans,10" } \
    else { set terminal svg size 1500,650 font "sans,10" }
    set output outbase.".".t
    plot for [i = 2:*] datafile using i:xtic(1) title columnheader(i)
    unset output
}
