set title '1000genome -> montage: target test F1 per amount of target rows'
set grid ytics
set key bottom right
set xlabel 'target training rows'
set ylabel 'target test F1'
set yrange [0:1]
set offsets graph 0.02, graph 0.02, 0, 0
set terminal svg size 900,560 dynamic noenhanced font 'sans,11' background rgb 'white'
set output '/tmp/analyses1k/plots/transfer-curve.svg'
plot '/tmp/analyses1k/plots/transfer-curve.dat' using 1:2:3 with yerrorlines pt 7 title 'fine-tuned from 1000genome', '' using 1:4:5 with yerrorlines pt 5 title 'from scratch'
set terminal pngcairo size 900,560 noenhanced font 'sans,10'
set output '/tmp/analyses1k/plots/transfer-curve.png'
plot '/tmp/analyses1k/plots/transfer-curve.dat' using 1:2:3 with yerrorlines pt 7 title 'fine-tuned from 1000genome', '' using 1:4:5 with yerrorlines pt 5 title 'from scratch'
unset output
