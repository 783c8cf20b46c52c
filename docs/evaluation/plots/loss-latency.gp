# Drawn by `pc5sec evaluate` with gnuplot: gnuplot loss-latency.gp
set terminal svg size 860,480 dynamic enhanced font 'sans,12' background '#ffffff'
set output 'loss-latency.svg'
set title "Median establishment latency against loss" noenhanced
set xlabel "loss per transmission (%)" noenhanced
set ylabel "median latency (ms, virtual)" noenhanced
set grid
set key outside right top noenhanced
set yrange [0:*]
plot 'loss-latency.dat' using 1:3 with linespoints title 'A direct', 'loss-latency.dat' using 1:5 with linespoints title 'A-l3', 'loss-latency.dat' using 1:7 with linespoints title 'A-l2', 'loss-latency.dat' using 1:9 with linespoints title 'B-literal l2', 'loss-latency.dat' using 1:11 with linespoints title 'B-hardened l2'
