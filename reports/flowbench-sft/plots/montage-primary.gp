set title 'montage: f1 per method (mean, 95% CI)'
set grid ytics
set key off
set ylabel 'f1 (mean +/- 95% CI)'
set style fill solid 0.5 border -1
set boxwidth 0.6
set xtics rotate by -25 left nomirror
set bmargin 11
set rmargin 12
set xrange [-0.6:*]
set yrange [0:*]
set terminal svg size 900,600 dynamic noenhanced font 'sans,11' background rgb 'white'
set output '/work/main/reports/flowbench-sft/plots/montage-primary.svg'
plot '/work/main/reports/flowbench-sft/plots/montage-primary.dat' using 0:2:xtic(1) with boxes lc rgb '#4e79a7', '' using 0:2:3 with yerrorbars pt 0 ps 0 lc rgb 'black'
set terminal pngcairo size 900,600 noenhanced font 'sans,10'
set output '/work/main/reports/flowbench-sft/plots/montage-primary.png'
plot '/work/main/reports/flowbench-sft/plots/montage-primary.dat' using 0:2:xtic(1) with boxes lc rgb '#4e79a7', '' using 0:2:3 with yerrorbars pt 0 ps 0 lc rgb 'black'
unset output
