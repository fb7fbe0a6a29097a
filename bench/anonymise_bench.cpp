// anonymise_bench.cpp: placeholder
