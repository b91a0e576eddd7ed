set title '1000genome: first prefix length predicted right (test rows)'
set grid ytics
set key off
set xtics rotate by -30 left nomirror
set bmargin 9
set xrange [-0.6:*]
set ylabel 'test rows first predicted right'
set style fill solid 0.5 border -1
set boxwidth 0.6
set yrange [0:*]
set terminal svg size 900,560 dynamic noenhanced font 'sans,11' background rgb 'white'
set output '/tmp/analyses1k/plots/online-1000genome-first-right.svg'
plot '/tmp/analyses1k/plots/online-1000genome-first-right.dat' using 1:3:xtic(2) with boxes lc rgb '#4e79a7'
set terminal pngcairo size 900,560 noenhanced font 'sans,10'
set output '/tmp/analyses1k/plots/online-1000genome-first-right.png'
plot '/tmp/analyses1k/plots/online-1000genome-first-right.dat' using 1:3:xtic(2) with boxes lc rgb '#4e79a7'
unset output
