#!/usr/bin/env node
// Redraws the ratio chart from a results file of `npm run bench`:
//   node bench/chart.mjs [bench/results/latest.json] [bench/results/ratios.svg]
// (the bench draws it itself after every run; this is for redrawing a saved run).

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultsChartSvg } from './lib/chart.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const [input = path.join(HERE, 'results', 'latest.json'), output = path.join(HERE, 'results', 'ratios.svg')] =
  process.argv.slice(2);
writeFileSync(output, resultsChartSvg(JSON.parse(readFileSync(input, 'utf8'))));
console.log(`${path.relative(process.cwd(), output)} written from ${path.relative(process.cwd(), input)}`);
