# Throughput relative to a baseline server (the same scenario's), linear.
#   gnuplot -e "datafile='throughput-ratio.tsv'; outbase='throughput-ratio'; baseline='epoll'" bench/plot/ratio.gp
if (!exists("datafile")) datafile = "throughput-ratio.tsv"
if (!exists("outbase")) outbase = "throughput-ratio"
if (!exists("baseline")) baseline = "the baseline"
load "bench/plot/common.gp"
set title "Throughput relative to ".baseline." (same scenario, same run)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 noborder
set yrange [0:*]
set ylabel "throughput / ".baseline
set xtics rotate by -25 scale 0
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "black" front
do for [t in "png svg"] {
    if (t eq "png") { set terminal pngcairo size 1500,650 font "sans,10" } \
    else { set terminal svg size 1500,650 font "sans,10" }
    set output outbase.".".t
    plot for [i = 2:*] datafile using i:xtic(1) title columnheader(i)
    unset output
}
