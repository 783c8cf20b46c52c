# Drawn by `pc5sec evaluate` with gnuplot: gnuplot bytes-by-kind.gp
set terminal svg size 860,480 dynamic enhanced font 'sans,12' background '#ffffff'
set output 'bytes-by-kind.svg'
set title "Bytes on the air per establishment, by kind (in coverage)" noenhanced
set xlabel "" noenhanced
set ylabel "bytes per establishment" noenhanced
set grid
set key outside right top noenhanced
set style data histograms
set style histogram rowstacked
set style fill solid border -1
set boxwidth 0.7
set xtics rotate by -20
set yrange [0:*]
plot 'bytes-by-kind.dat' using 2:xtic(1) title 'establishment', '' using 3 title 'discovery', '' using 4 title 'forwarding', '' using 5 title 'retransmission', '' using 6 title 'keep-alive', '' using 7 title 'maintenance'
