import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OperationError } from '../../../src/errors.js';
import { validateMetadata } from '../../../src/rebuild/validate.js';

const owner = { user: { name: 'root', id: 0 }, group: { name: 'root', id: 0 } };
const dir = (path: string, mode = 0o755) => ({ path, type: 'directory', mode, ...owner });
const file = (path: string, mode = 0o644) => ({ path, type: 'file', mode, size: 3, ...owner });
const link = (path: string, target = 'elsewhere') => ({ path, type: 'symlink', mode: 0o777, target, ...owner });

function metadata(entries: unknown[], extra: Record<string, unknown> = {}) {
  return { version: 1, location: '/opt/foo', host: 'bar', single: false, entries, ...extra };
}

/** Assert validation refuses with EUNSAFE, naming the repository and the offending path. */
function refuses(doc: unknown, offending: string) {
  assert.throws(
    () => validateMetadata(doc, 'foo'),
    (error: unknown) => {
      assert.ok(error instanceof OperationError, `not an OperationError: ${String(error)}`);
      assert.equal(error.code, 'EUNSAFE');
      assert.equal(error.exitCode, 1);
      assert.match(error.message, /repository "foo"/);
      assert.ok(error.message.includes(JSON.stringify(offending)), `message does not name ${offending}: ${error.message}`);
      assert.ok(error.hint);
      return true;
    },
  );
}

describe('validateMetadata', () => {
  it('accepts a clean tree and returns it typed', () => {
    const doc = metadata([dir('.'), file('a b/é.txt'), dir('a b'), link('l', '../../etc/passwd'), dir('empty')]);
    const result = validateMetadata(doc, 'foo');
    assert.equal(result.location, '/opt/foo');
    assert.equal(result.entries.length, 5);
    assert.equal(result.entries[3]?.target, '../../etc/passwd'); // a symlink's target may point anywhere: it is never followed
  });

  it('refuses a location that is relative, not normalized or contains ..', () => {
    for (const location of ['opt/foo', '/opt/../etc', '/opt//foo', '/opt/./foo', '/opt/foo/', '/opt/..', '']) {
      refuses(metadata([dir('.')], { location }), location);
    }
  });

  it('refuses absolute, .., empty, . components, NUL and non-canonical byte escapes in entry paths', () => {
    // '\udcc3\udca9' spells the bytes of 'é': a second name for one file.
    for (const bad of ['/etc/passwd', '../x', 'a/../../x', 'a/..', 'a//b', 'a/', '', './a', 'a/./b', 'a\0b', '..', 'x\udcc3\udca9', 'lone\ud800']) {
      refuses(metadata([dir('.'), file(bad)]), bad);
    }
  });

  it('accepts backslashes, tabs, newlines and escaped non-UTF-8 bytes in names', () => {
    const names = ['mnt-data\\x2dvol.mount', 'tab\there', 'new\nline', 'latin1-caf\udce9'];
    const ok = validateMetadata(metadata([dir('.'), ...names.map((n) => file(n))]), 'foo');
    assert.deepEqual(ok.entries.map((e) => e.path).slice(1), names);
  });

  it('hard links name the first file of their group; devices carry their numbers', () => {
    const ok = validateMetadata(metadata([dir('.'), file('a'), { ...file('b'), hardlink: 'a' }, { path: 'null', type: 'char', mode: 0o666, ...owner, device: { major: 1, minor: 3 } }, { path: 'p', type: 'fifo', mode: 0o600, ...owner }]), 'foo');
    assert.equal(ok.entries[2]?.hardlink, 'a');
    assert.deepEqual(ok.entries[3]?.device, { major: 1, minor: 3 });
    refuses(metadata([dir('.'), file('a'), { ...file('b'), hardlink: 'zz' }]), 'b'); // no such entry
    refuses(metadata([dir('.'), { ...file('a'), hardlink: 'b' }, file('b')]), 'a'); // not the first in byte order
    refuses(metadata([dir('.'), dir('a'), { ...file('b'), hardlink: 'a' }]), 'b'); // a directory
    refuses(metadata([dir('.'), file('a'), { ...file('b'), hardlink: 'a' }, { ...file('c'), hardlink: 'b' }]), 'c'); // a chain
    refuses(metadata([dir('.'), { path: 'null', type: 'char', mode: 0o666, ...owner }]), 'null');
    refuses(metadata([dir('.'), { path: 'sda', type: 'block', mode: 0o660, ...owner, device: { major: -1, minor: 0 } }]), 'sda');
  });

  it('refuses locations pacha never tracks', () => {
    for (const location of ['/', '/proc', '/proc/sys', '/sys/kernel', '/dev', '/run/foo']) refuses(metadata([dir('.')], { location }), location);
  });

  it('refuses an entry beneath a symlink entry', () => {
    refuses(metadata([dir('.'), link('etc', '/etc'), file('etc/shadow')]), 'etc/shadow');
    refuses(metadata([dir('.'), link('a', '/'), dir('a/b'), file('a/b/c')]), 'a/b');
  });

  it('refuses an entry beneath a file entry', () => {
    refuses(metadata([dir('.'), file('f'), file('f/g')]), 'f/g');
  });

  it('refuses duplicate paths', () => {
    refuses(metadata([dir('.'), file('x'), file('x')]), 'x');
    refuses(metadata([dir('.'), file('x'), dir('x')]), 'x');
  });

  it('refuses unknown types and modes outside 0..07777', () => {
    refuses(metadata([dir('.'), { ...file('x'), type: 'hardlink' }]), 'x');
    refuses(metadata([dir('.'), file('x', 0o10000)]), 'x');
    refuses(metadata([dir('.'), file('x', -1)]), 'x');
    refuses(metadata([dir('.'), file('x', 1.5)]), 'x');
    refuses(metadata([dir('.'), { ...file('x'), mode: '0644' }]), 'x');
  });

  it('refuses bad owners and symlinks without a target', () => {
    refuses(metadata([dir('.'), { ...file('x'), user: { id: -1 } }]), 'x');
    refuses(metadata([dir('.'), { ...file('x'), group: { id: 2 ** 32 } }]), 'x');
    refuses(metadata([dir('.'), { ...file('x'), user: { id: 5, name: 'a:b' } }]), 'x');
    refuses(metadata([dir('.'), { path: 'l', type: 'symlink', mode: 0o777, ...owner }]), 'l');
  });

  it('refuses a root entry that is not a directory', () => {
    refuses(metadata([{ ...file('.'), path: '.' }]), '.');
  });

  it('single-file metadata: exactly one entry, the basename', () => {
    const single = { location: '/etc/app.conf', single: true };
    assert.equal(validateMetadata(metadata([file('app.conf')], single), 'app').entries[0]?.path, 'app.conf');
    refuses(metadata([file('other.conf')], single), 'other.conf');
    refuses(metadata([file('app.conf'), file('x')], single), 'app.conf');
    refuses(metadata([], single), '/etc/app.conf');
    refuses(metadata([dir('app.conf')], single), 'app.conf');
  });

  it('malformed documents are EMETADATA', () => {
    for (const doc of [null, [], 'x', { ...metadata([]), version: 4 }, { ...metadata([]), entries: {} }, metadata([42])]) {
      assert.throws(() => validateMetadata(doc, 'foo'), (e: unknown) => e instanceof OperationError && e.code === 'EMETADATA' && /"foo"/.test(e.message));
    }
  });
});
