# Drawn by `pc5sec evaluate` with gnuplot: gnuplot loss-success.gp
set terminal svg size 860,480 dynamic enhanced font 'sans,12' background '#ffffff'
set output 'loss-success.svg'
set title "Establishments that succeed against loss" noenhanced
set xlabel "loss per transmission (%)" noenhanced
set ylabel "established (%)" noenhanced
set grid
set key outside right top noenhanced
set yrange [0:105]
plot 'loss-success.dat' using 1:2 with linespoints title 'A direct', 'loss-success.dat' using 1:4 with linespoints title 'A-l3', 'loss-success.dat' using 1:6 with linespoints title 'A-l2', 'loss-success.dat' using 1:8 with linespoints title 'B-literal l2', 'loss-success.dat' using 1:10 with linespoints title 'B-hardened l2'
