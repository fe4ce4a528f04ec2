import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPathLimits } from '../../../src/rebuild/plan.js';
import { stageOwner } from '../../../src/rebuild/stage.js';
import { divergedRef, divergenceSteps } from '../../../src/store/push.js';

test('path limits: a long name, a deep path, its temporary file and its backup', () => {
  assert.equal(checkPathLimits('/opt/foo', 'a/b/c.conf'), undefined);
  assert.match(checkPathLimits('/opt/foo', `d/${'n'.repeat(256)}`)!, /name of 256 bytes/);
  const deep = Array.from({ length: 2040 }, () => 'a').join('/');
  assert.match(checkPathLimits('/opt/foo', deep)!, /2040 levels deep\) would be \d+ bytes long/);
  // Fits as a target, but not with its temporary file beside it (27 more bytes).
  // The directory at 4,080 bytes: the target (+6) fits, the temporary file beside it (+28) does not.
  const root = '/r';
  const dirs = `${'x'.repeat(200)}/`.repeat(20) + 'x'.repeat(57);
  const entry = `${dirs}/yyyyy`;
  assert.equal(Buffer.byteLength(`${root}/${dirs}`), 4080);
  assert.ok(Buffer.byteLength(`${root}/${entry}`) < 4096);
  assert.match(checkPathLimits(root, entry)!, /temporary file or backup/);
  // The backup dir is longer than the target: that counts too.
  assert.equal(checkPathLimits('/opt/foo', 'a'.repeat(200)), undefined);
  assert.match(checkPathLimits('/opt/foo', `${'b'.repeat(200)}/`.repeat(10) + 'c', `/var/lib/pacha/backups/2026/${'z'.repeat(2100)}`)!, /bytes long/);
});

test('a stage name carries its owner; a name pacha never made has none', () => {
  assert.deepEqual(stageOwner('2026-11-30T14-38-31-327Z-4242-987654-1ceba15f'), { pid: 4242, start: '987654' });
  assert.equal(stageOwner('2026-11-30T14-38-31-327Z-1ceba15f'), undefined);
  assert.equal(stageOwner('lost+found'), undefined);
});

test('one diverged ref per diverging history, named by its fork; the steps name it', () => {
  assert.equal(divergedRef('bar', '0123456789abcdef0123'), 'refs/pacha/diverged/bar/0123456789ab');
  const steps = divergenceSteps({ masterDir: '/pacha/hosts/bar/foo', ref: 'refs/pacha/diverged/bar/0123456789ab', location: '/opt/foo', name: 'foo' });
  assert.equal(steps.length, 4);
  assert.match(steps[0]!, /\/pacha\/hosts\/bar\/foo/);
  assert.match(steps[1]!, /`pacha reconcile \/opt\/foo --keep-local`/);
  assert.match(steps[2]!, /`pacha reconcile \/opt\/foo --keep-master`/);
  assert.match(steps[3]!, /git reset --keep refs\/pacha\/diverged\/bar\/0123456789ab/);
  assert.match(steps[3]!, /pacha unwatch \/opt\/foo.*pacha rebuild --directory foo/);
});
