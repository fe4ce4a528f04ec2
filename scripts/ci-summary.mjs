#!/usr/bin/env node
// CI's closing line when the suite runs more than once (Node 20, then Node 22): one line per
// run, then the combined "N passed, N failed" as the very last line, which is what CI reads.
//
//   node scripts/ci-summary.mjs "Node 20=/tmp/x/node20.json" "Node 22=/tmp/x/node22.json"
//
// Each file is the counts scripts/test.mjs writes when PACHA_TEST_COUNTS names it:
// {"passed":N,"failed":N,"skipped":N,"node":"v22.…"}. A run whose file is missing or
// unreadable never finished (the Node 22 download failed, the runner crashed): it counts as
// one failure, so a broken run can never make the total look clean.
// Exits 1 when anything failed, so it can be .ci/run's last command.
import { readFileSync } from 'node:fs';

/** One run's counts, or a single failure explaining why there are none. */
function readCounts(file) {
  let parsed;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return { passed: 0, failed: 1, skipped: 0, problem: `no counts in ${file} (${error.code ?? error.message}): the run did not finish` };
  }
  const count = (key) => (Number.isInteger(parsed?.[key]) && parsed[key] >= 0 ? parsed[key] : undefined);
  const passed = count('passed');
  const failed = count('failed');
  if (passed === undefined || failed === undefined) {
    return { passed: 0, failed: 1, skipped: 0, problem: `${file} does not hold {"passed":N,"failed":N}` };
  }
  return { passed, failed, skipped: count('skipped') ?? 0, node: typeof parsed.node === 'string' ? parsed.node : undefined };
}

/** "N passed, N failed" (", N skipped" only when some were): the format of scripts/summary-reporter.mjs. */
function countsLine({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
}

const runs = process.argv.slice(2).map((arg) => {
  const at = arg.indexOf('=');
  if (at <= 0) {
    console.error(`ci-summary: expected LABEL=FILE, got ${JSON.stringify(arg)}`);
    process.exit(2);
  }
  return { label: arg.slice(0, at), counts: readCounts(arg.slice(at + 1)) };
});
if (runs.length === 0) {
  console.error('usage: node scripts/ci-summary.mjs LABEL=COUNTS.json …');
  process.exit(2);
}

const total = { passed: 0, failed: 0, skipped: 0 };
console.log('');
for (const { label, counts } of runs) {
  for (const key of Object.keys(total)) total[key] += counts[key];
  const detail = counts.problem ?? (counts.node ? `node ${counts.node}` : '');
  console.log(`${label}: ${countsLine(counts)}${detail ? ` (${detail})` : ''}`);
}
console.log(countsLine(total));
process.exit(total.failed === 0 ? 0 : 1);
