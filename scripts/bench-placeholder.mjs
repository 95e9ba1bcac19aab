#!/usr/bin/env node
// `npm run bench` is filled by the benchmark issue ([2]): comparisons against
// undici, node:http and others in one run. Until then it says so and exits 0.
console.log('Benchmarks arrive with issue [2] (bench/ and BENCHMARKS.md); nothing to run yet.');
