// entryLocation and isInside join and compare plain paths as strings (a rebuild calls them per
// entry, interpreted): for every path they must answer what path.join and path.relative do.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { entryLocation, isInside } from '../../../src/fs/entry.js';
import { checkPathLimits } from '../../../src/rebuild/plan.js';
import { TEMP_NAME_LENGTH } from '../../../src/fs/temp-name.js';

/** Components that make paths plain or not: names, dotfiles, '.', '..', '' (a doubled '/'). */
const component = fc.oneof(fc.constantFrom('etc', 'a', 'ab', 'b c', '.ssh', '..x', 'x.', '.', '..', '', 'é'), fc.string({ minLength: 1, maxLength: 4 }).filter((s) => !s.includes('/')));
const relative = fc.array(component, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('/'));
const absolute = fc.oneof(fc.constant('/'), relative.map((r) => `/${r}`), relative.map((r) => `/${r}/`));

/** What entryLocation and isInside answered before their string fast paths. */
const joined = (root: string, entryPath: string): string => (entryPath === '.' ? root : path.join(root, entryPath));
const inside = (parent: string, child: string): boolean => {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
};

test('entryLocation is path.join for every root and entry path, plain or not', () => {
  fc.assert(fc.property(absolute, fc.oneof(relative, fc.constant('.')), (root, entryPath) => entryLocation(root, entryPath) === joined(root, entryPath)), { numRuns: 5000 });
  assert.equal(entryLocation('/', 'etc/hosts'), '/etc/hosts');
  assert.equal(entryLocation('/opt/foo', 'a/../../x'), '/opt/x', 'not plain: normalized as path.join does');
});

test('isInside answers as path.relative does for every pair of absolute paths', () => {
  const under = fc.tuple(absolute, relative).map(([p, r]) => [p, `${p}/${r}`] as const);
  const pairs = fc.oneof(fc.tuple(absolute, absolute), under);
  fc.assert(fc.property(pairs, ([parent, child]) => isInside(parent, child) === inside(parent, child)), { numRuns: 5000 });
  assert.equal(isInside('/opt/foo', '/opt/foobar'), false);
  assert.equal(isInside('/opt/foo', '/opt/foo/../bar'), false, 'a .. out is seen');
  assert.equal(isInside('/', '/anything'), true);
});

test('checkPathLimits measures the temporary file beside the target as path.join would build it', () => {
  const before = (targetRoot: string, entryPath: string): number => {
    const target = entryPath === '.' ? targetRoot : path.join(targetRoot, entryPath);
    return Buffer.byteLength(path.join(path.dirname(target), 'x'.repeat(TEMP_NAME_LENGTH)));
  };
  // Normalized roots (targetRootOf) and validated entry paths; lengths around PATH_MAX.
  const name = fc.string({ minLength: 1, maxLength: 200, unit: 'grapheme' }).filter((s) => !s.includes('/') && s !== '.' && s !== '..' && Buffer.byteLength(s) <= 255);
  const root = fc.oneof(fc.constant('/'), fc.array(name, { minLength: 1, maxLength: 3 }).map((p) => `/${p.join('/')}`));
  const entry = fc.oneof(fc.constant('.'), fc.array(name, { minLength: 1, maxLength: 30 }).map((p) => p.join('/')));
  fc.assert(
    fc.property(root, entry, (targetRoot, entryPath) => {
      const longest = Math.max(Buffer.byteLength(joined(targetRoot, entryPath)), before(targetRoot, entryPath));
      assert.equal(checkPathLimits(targetRoot, entryPath) === undefined, longest < 4096, `${longest} bytes`);
    }),
    { numRuns: 2000 },
  );
});

test('checkPathLimits: a temporary file of exactly PATH_MAX bytes is refused, one byte shorter is not', () => {
  for (const root of ['/', '/r', '/opt/some thing']) {
    for (let d = -2; d <= 2; d++) {
      // The entry's directory at 4096 - 1 - TEMP_NAME_LENGTH + d bytes: its temporary file at 4095 + d.
      const want = 4096 - 1 - TEMP_NAME_LENGTH + d - Buffer.byteLength(root === '/' ? '' : root) - 1;
      const names: string[] = [];
      for (let left = want; left > 0; ) {
        const take = Math.min(200, left);
        names.push('é'.repeat(Math.floor(take / 2)) + 'x'.repeat(take % 2));
        left -= take + 1;
      }
      const dir = names.join('/');
      const entry = `${dir}/y`;
      const dirBytes = Buffer.byteLength(entryLocation(root, dir));
      const tempBytes = dirBytes + 1 + TEMP_NAME_LENGTH;
      assert.equal(checkPathLimits(root, entry) !== undefined, tempBytes >= 4096, `root ${root}, temporary file of ${tempBytes} bytes`);
    }
  }
});
