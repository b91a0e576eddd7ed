set title 'google2011: roc_auc_ovr_macro against latency.b1024.p50'
set grid ytics
set key off
set logscale x
set xlabel 'score latency per batch of 1024, p50 (s, log scale)'
set ylabel 'roc_auc_ovr_macro (mean)'
set offsets graph 0.1, graph 0.3, graph 0.1, graph 0.1
set terminal svg size 900,600 dynamic noenhanced font 'sans,11' background rgb 'white'
set output '/tmp/rendered/google2011-end-state/plots/google2011-quality-latency.svg'
plot '/tmp/rendered/google2011-end-state/plots/google2011-quality-latency.dat' using 2:3 with points pt 7 ps 1.2 lc rgb '#e15759', '' using 2:3:1 with labels offset char 0,1 font ',9'
set terminal pngcairo size 900,600 noenhanced font 'sans,10'
set output '/tmp/rendered/google2011-end-state/plots/google2011-quality-latency.png'
plot '/tmp/rendered/google2011-end-state/plots/google2011-quality-latency.dat' using 2:3 with points pt 7 ps 1.2 lc rgb '#e15759', '' using 2:3:1 with labels offset char 0,1 font ',9'
unset output
