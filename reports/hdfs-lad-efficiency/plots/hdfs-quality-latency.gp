set title 'hdfs: f1 against latency.b8.p50'
set grid ytics
set key off
set logscale x
set xlabel 'score latency per batch of 8, p50 (s, log scale)'
set ylabel 'f1 (mean)'
set offsets graph 0.1, graph 0.3, graph 0.1, graph 0.1
set terminal svg size 900,600 dynamic noenhanced font 'sans,11' background rgb 'white'
set output '/work/main/reports/hdfs-lad-efficiency/plots/hdfs-quality-latency.svg'
plot '/work/main/reports/hdfs-lad-efficiency/plots/hdfs-quality-latency.dat' using 2:3 with points pt 7 ps 1.2 lc rgb '#e15759', '' using 2:3:1 with labels offset char 0,1 font ',9'
set terminal pngcairo size 900,600 noenhanced font 'sans,10'
set output '/work/main/reports/hdfs-lad-efficiency/plots/hdfs-quality-latency.png'
plot '/work/main/reports/hdfs-lad-efficiency/plots/hdfs-quality-latency.dat' using 2:3 with points pt 7 ps 1.2 lc rgb '#e15759', '' using 2:3:1 with labels offset char 0,1 font ',9'
unset output
