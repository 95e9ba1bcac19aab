// One client of bench/instructions.mjs: runs exactly `n` small GETs through a
// bench client (bench/lib/clients.mjs, or its HTTP/2 clients) and prints how
// many it ran. Started under valgrind by bench/instructions.mjs.

import { CLIENTS, H2_CLIENTS } from './clients.mjs';

const { client, origin, n, concurrency, ca, h2 } = JSON.parse(process.argv[2]);
const c = await (h2 ? H2_CLIENTS : CLIENTS)[client]({ origin, concurrency, workload: 'get', ca });
const done = await c.run(Number.POSITIVE_INFINITY, n);
await c.close();
console.log(`requests=${done}`);
