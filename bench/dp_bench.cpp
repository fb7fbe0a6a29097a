// dp_bench.cpp: placeholder
