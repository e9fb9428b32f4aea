# A stacked bar per server: the columns of the data stacked in each bar
# (system calls per request by name; CPU per request user/sys; context
# switches per request voluntary/involuntary).
#   gnuplot -e "datafile='syscalls.tsv'; outbase='syscalls'; title_text='...'; ylabel_text='...'" bench/plot/stacked.gp
# Data: first row "server" then one column per part; one row per server.
if (!exists("datafile")) datafile = "syscalls.tsv"
if (!exists("outbase")) outbase = "syscalls"
if (!exists("title_text")) title_text = ""
if (!exists("ylabel_text")) ylabel_text = ""
load "bench/plot/common.gp"
set title title_text
set ylabel ylabel_text
set style data histograms
set style histogram rowstacked
set style fill solid 0.9 noborder
set boxwidth 0.7
set yrange [0:*]
set xtics rotate by -25 scale 0
do for [t in "png svg"] {
    if (t eq "png") { set terminal pngcairo size 1100,600 font "sans,10" } \
    else { set terminal svg size 1100,600 font "sans,10" }
    set output outbase.".".t
    plot for [i = 2:*] datafile using i:xtic(1) title columnheader(i)
    unset output
}
