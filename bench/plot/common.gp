# Shared by the bench/compare charts: data format, colours, and a macro
# that draws the chart twice, as OUTBASE.png and OUTBASE.svg.
#   call: load "common.gp" after setting datafile and outbase.
set datafile separator "\t"
set datafile missing "-"
set termoption noenhanced
set grid ytics lc rgb "#d0d0d0"
set border 3
set tics nomirror
set key outside right top vertical noenhanced
# 16 colours that stay apart (Tableau 20, darker half first).
array C[16] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", \
               "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", \
               "#98df8a", "#ff9896", "#c5b0d5", "#c49c94"]
do for [i = 1:16] { set linetype i lc rgb C[i] lw 1.5 pt 7 ps 0.8 }
set linetype cycle 16
