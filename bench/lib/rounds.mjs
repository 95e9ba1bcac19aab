// The setup and measured rounds every comparison workload runs over its
// rows ({ client, rounds: [] }, one a client): a row whose setup fails is
// marked (row.setupError) and left out of the rounds; in each round every
// other row is measured once, and the round is logged as one line.

/** Sets up each row not yet marked with `setUp(row)`; a throw marks the row and is logged. */
export async function setUpRows(rows, log, setUp) {
  for (const row of rows) {
    if (row.setupError) continue;
    try {
      await setUp(row);
    } catch (err) {
      row.setupError = err.message;
      log(`  ${row.client}: ${err.message}`);
    }
  }
}

/**
 * Runs `rounds` rounds: row.rounds[round] is `await measure(row, round)`, or
 * { error } when it throws (logged). `describe(row, result)` is the row's part
 * of the round's log line (joined with `separator`; `label` follows the round
 * number). With `alternate`, odd rounds take the rows in reverse order, so no
 * client always runs first.
 */
export async function measureRounds({
  rows,
  rounds,
  measure,
  describe,
  log,
  alternate = false,
  separator = ', ',
  label = '',
}) {
  for (let round = 0; round < rounds; round++) {
    const order = alternate && round % 2 === 1 ? [...rows].reverse() : rows;
    const line = [];
    for (const row of order) {
      if (row.setupError) continue;
      try {
        const r = await measure(row, round);
        row.rounds[round] = r;
        line.push(describe(row, r));
      } catch (err) {
        row.rounds[round] = { error: err.message };
        line.push(`${row.client} ERROR`);
        log(`  ${row.client}: ${err.message}`);
      }
    }
    log(`  round ${round + 1}/${rounds}${label}: ${line.join(separator)}`);
  }
}
