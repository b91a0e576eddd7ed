set title '1000genome: test accuracy per prefix length'
set grid ytics
set key off
set xtics rotate by -30 left nomirror
set bmargin 9
set xrange [-0.6:*]
set ylabel 'test accuracy of the prefix'
set yrange [0:1]
set terminal svg size 900,560 dynamic noenhanced font 'sans,11' background rgb 'white'
set output '/tmp/analyses1k/plots/online-1000genome-accuracy.svg'
plot '/tmp/analyses1k/plots/online-1000genome-accuracy.dat' using 1:3:4:xtic(2) with yerrorlines pt 7 lc rgb '#e15759'
set terminal pngcairo size 900,560 noenhanced font 'sans,10'
set output '/tmp/analyses1k/plots/online-1000genome-accuracy.png'
plot '/tmp/analyses1k/plots/online-1000genome-accuracy.dat' using 1:3:4:xtic(2) with yerrorlines pt 7 lc rgb '#e15759'
unset output
