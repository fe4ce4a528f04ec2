// getfattr from one kept shell (store/xattr-reader.ts), for the daemon's commits: every
// attribute of every path, whatever bytes its name holds (a line break, quotes, a leading
// dash, bytes that are not UTF-8, the reply's own marker words); a vanished path among them;
// requests at once; a shell killed between requests; no getfattr at all.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { decodeName, encodeName } from '../../../src/fs/names.js';
import { XattrReader } from '../../../src/store/xattr-reader.js';
import { tempDir } from '../../helpers/tmp.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** Files whose names are these bytes, each with user.k = its value (python3: a name need not be UTF-8). */
function filesWithXattr(dir: string, files: ReadonlyArray<{ name: Buffer; value: string }>): string[] {
  const script = 'import os,sys\nfor n,v in zip(sys.argv[2::2],sys.argv[3::2]):\n p=os.fsencode(sys.argv[1])+bytes.fromhex(n)\n open(p,"w").write("x")\n os.setxattr(p,b"user.k",v.encode())';
  execFileSync('python3', ['-c', script, `${dir}/`, ...files.flatMap((f) => [f.name.toString('hex'), f.value])]);
  return files.map((f) => path.join(dir, decodeName(f.name)));
}

test('every name, every byte: the attributes of each path in one request, keyed by its name', async () => {
  const dir = tempDir();
  const names = [
    Buffer.from('plain.conf'),
    Buffer.from("it's \"quoted\" $HOME `x`.conf"),
    Buffer.from('line\nbreak.conf'),
    Buffer.from('-leading-dash'),
    Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x2e, 0x63]),
    Buffer.from("pacha-end-0 0\n' ; printf oops >&2 #"),
  ];
  const files = filesWithXattr(dir, names.map((name, i) => ({ name, value: `value ${i}` })));
  execFileSync('setfacl', ['-m', 'u:1:r', path.join(dir, 'plain.conf')]);
  const reader = new XattrReader();
  try {
    const got = await reader.read(files);
    assert.ok(got);
    files.forEach((file, i) => {
      assert.equal(got.get(file)?.['user.k'], b64(`value ${i}`), `${JSON.stringify(encodeName(file).toString('latin1'))}`);
    });
    assert.ok(got.get(files[0]!)?.['system.posix_acl_access'], 'an ACL is read too');
    assert.equal(got.size, files.length);
  } finally {
    reader.close();
  }
});

test('a path gone among them: the others are read; requests at once each get their own', async () => {
  const dir = tempDir();
  const files = filesWithXattr(dir, Array.from({ length: 12 }, (_, i) => ({ name: Buffer.from(`f${i}`), value: `v${i}` })));
  const reader = new XattrReader();
  try {
    const withGone = await reader.read([files[0]!, path.join(dir, 'gone'), files[1]!]);
    assert.equal(withGone?.get(files[0]!)?.['user.k'], b64('v0'));
    assert.equal(withGone?.get(files[1]!)?.['user.k'], b64('v1'));
    const replies = await Promise.all(files.map((file) => reader.read([file])));
    replies.forEach((reply, i) => {
      assert.equal(reply?.size, 1);
      assert.equal(reply?.get(files[i]!)?.['user.k'], b64(`v${i}`));
    });
  } finally {
    reader.close();
  }
});

test('the shell killed between requests: the next request starts another', async () => {
  const dir = tempDir();
  const [file] = filesWithXattr(dir, [{ name: Buffer.from('a'), value: 'one' }]) as [string];
  // The shells of this process before this reader's: an earlier test's reader, closed, may
  // still be exiting.
  const childShells = (): string[] => spawnSync('pgrep', ['-P', String(process.pid), '-x', 'sh']).stdout.toString().trim().split('\n').filter(Boolean);
  const before = childShells();
  const reader = new XattrReader();
  try {
    assert.equal((await reader.read([file]))?.get(file)?.['user.k'], b64('one'));
    const shells = childShells().filter((pid) => !before.includes(pid));
    assert.equal(shells.length, 1, 'one kept shell');
    process.kill(Number(shells[0]), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await reader.read([file]))?.get(file)?.['user.k'], b64('one'));
  } finally {
    reader.close();
  }
});

test('no getfattr on this host: undefined, as the full capture says it', async () => {
  const bin = tempDir();
  mkdirSync(path.join(bin, 'bin'));
  symlinkSync('/bin/sh', path.join(bin, 'bin', 'sh'));
  const dir = tempDir();
  writeFileSync(path.join(dir, 'a'), 'x');
  const reader = new XattrReader({ PATH: path.join(bin, 'bin'), LC_ALL: 'C' });
  try {
    assert.equal(await reader.read([path.join(dir, 'a')]), undefined);
  } finally {
    reader.close();
  }
});
