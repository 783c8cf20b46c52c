# Drawn by `pc5sec evaluate` with gnuplot: gnuplot sources-latency.gp
set terminal svg size 860,480 dynamic enhanced font 'sans,12' background '#ffffff'
set output 'sources-latency.svg'
set title "Establishment latency against the sources one relay serves" noenhanced
set xlabel "sources through one relay" noenhanced
set ylabel "latency (ms, virtual)" noenhanced
set grid
set key outside right top noenhanced
set yrange [0:*]
plot 'sources-latency.dat' using 1:2 with linespoints linecolor 1 title 'A-l3 median', '' using 1:3 with lines dashtype 2 linecolor 1 title 'A-l3 p95', 'sources-latency.dat' using 1:4 with linespoints linecolor 2 title 'A-l2 median', '' using 1:5 with lines dashtype 2 linecolor 2 title 'A-l2 p95', 'sources-latency.dat' using 1:6 with linespoints linecolor 3 title 'B-literal l2 median', '' using 1:7 with lines dashtype 2 linecolor 3 title 'B-literal l2 p95', 'sources-latency.dat' using 1:8 with linespoints linecolor 4 title 'B-hardened l2 median', '' using 1:9 with lines dashtype 2 linecolor 4 title 'B-hardened l2 p95'
