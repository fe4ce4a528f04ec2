// A node:test reporter that prints only the closing line CI reads: "N passed, N failed".
// With PACHA_TEST_COUNTS=FILE it also writes the counts there as JSON, for
// scripts/ci-summary.mjs to add up several runs (Node 20, Node 22) into one closing line.
import { writeFileSync } from 'node:fs';
export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.details?.type === 'suite') continue;
    if (event.type === 'test:fail') failed++;
    else if (event.data.skip || event.data.todo) skipped++;
    else passed++;
  }
  if (process.env.PACHA_TEST_COUNTS) {
    writeFileSync(process.env.PACHA_TEST_COUNTS, `${JSON.stringify({ passed, failed, skipped, node: process.version })}\n`);
  }
  yield `\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
}
