set title 'Refine: anomaly ratio left per iteration (paper Fig. 7)'
set grid ytics
set key outside right
set xlabel 'iteration'
set ylabel 'anomaly ratio of the training rows left (median)'
set terminal svg size 900,600 dynamic noenhanced font 'sans,11' background rgb 'white'
set output '/tmp/rendered/refine-ldms/plots/all-refine-anomaly-ratio.svg'
plot '/tmp/rendered/refine-ldms/plots/all-refine-anomaly-ratio.dat' index 0 using 1:2 with linespoints title 'ldms-c01', '/tmp/rendered/refine-ldms/plots/all-refine-anomaly-ratio.dat' index 1 using 1:2 with linespoints title 'ldms-c02', '/tmp/rendered/refine-ldms/plots/all-refine-anomaly-ratio.dat' index 2 using 1:2 with linespoints title 'ldms-c05', '/tmp/rendered/refine-ldms/plots/all-refine-anomaly-ratio.dat' index 3 using 1:2 with linespoints title 'ldms-c10'
set terminal pngcairo size 900,600 noenhanced font 'sans,10'
set output '/tmp/rendered/refine-ldms/plots/all-refine-anomaly-ratio.png'
plot '/tmp/rendered/refine-ldms/plots/all-refine-anomaly-ratio.dat' index 0 using 1:2 with linespoints title 'ldms-c01', '/tmp/rendered/refine-ldms/plots/all-refine-anomaly-ratio.dat' index 1 using 1:2 with linespoints title 'ldms-c02', '/tmp/rendered/refine-ldms/plots/all-refine-anomaly-ratio.dat' index 2 using 1:2 with linespoints title 'ldms-c05', '/tmp/rendered/refine-ldms/plots/all-refine-anomaly-ratio.dat' index 3 using 1:2 with linespoints title 'ldms-c10'
unset output
