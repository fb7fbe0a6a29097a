// ff1_bench.cpp: placeholder
