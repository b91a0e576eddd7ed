set title 'primary metric per method and dataset (Refine paper Fig. 5)'
set grid ytics
set key outside right
set xtics ('ldms-c01' 0, 'ldms-c02' 1, 'ldms-c05' 2, 'ldms-c10' 3) rotate by -25 left
set bmargin 8
set ylabel 'f1_macro (mean +/- 95% CI)'
set xrange [-0.5:4-0.5]
set terminal svg size 900,600 dynamic noenhanced font 'sans,11' background rgb 'white'
set output '/tmp/rendered/refine-ldms/plots/all-refine-f1-by-dataset.svg'
plot '/tmp/rendered/refine-ldms/plots/all-refine-f1-by-dataset.dat' index 0 using 1:2:3 with yerrorlines title 'iforest', '/tmp/rendered/refine-ldms/plots/all-refine-f1-by-dataset.dat' index 1 using 1:2:3 with yerrorlines title 'lof', '/tmp/rendered/refine-ldms/plots/all-refine-f1-by-dataset.dat' index 2 using 1:2:3 with yerrorlines title 'mlp-ae', '/tmp/rendered/refine-ldms/plots/all-refine-f1-by-dataset.dat' index 3 using 1:2:3 with yerrorlines title 'prodigy', '/tmp/rendered/refine-ldms/plots/all-refine-f1-by-dataset.dat' index 4 using 1:2:3 with yerrorlines title 'refine'
set terminal pngcairo size 900,600 noenhanced font 'sans,10'
set output '/tmp/rendered/refine-ldms/plots/all-refine-f1-by-dataset.png'
plot '/tmp/rendered/refine-ldms/plots/all-refine-f1-by-dataset.dat' index 0 using 1:2:3 with yerrorlines title 'iforest', '/tmp/rendered/refine-ldms/plots/all-refine-f1-by-dataset.dat' index 1 using 1:2:3 with yerrorlines title 'lof', '/tmp/rendered/refine-ldms/plots/all-refine-f1-by-dataset.dat' index 2 using 1:2:3 with yerrorlines title 'mlp-ae', '/tmp/rendered/refine-ldms/plots/all-refine-f1-by-dataset.dat' index 3 using 1:2:3 with yerrorlines title 'prodigy', '/tmp/rendered/refine-ldms/plots/all-refine-f1-by-dataset.dat' index 4 using 1:2:3 with yerrorlines title 'refine'
unset output
