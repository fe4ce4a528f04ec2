// A command run without the rights it needs says which path and what to do (exit 1 or 2),
// never "unexpected error (a bug)"; OpenSSH's own reasons reach pacha's message.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { runPacha } from '../../helpers/cli.js';
import { keygen } from '../../helpers/sshd.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeWorld, type World } from '../../helpers/world.js';

const NOBODY = 65534;
let world: World;

before(async () => {
  world = await makeWorld({ ssh: true });
});

/**
 * This node where another user can run it: CI's Node 22 lives under root's 0700 home, so it
 * is linked (or copied) into a directory everyone may enter.
 */
function nodeForEveryone(): string {
  if (spawnSync(process.execPath, ['-e', '0'], { uid: NOBODY, gid: NOBODY }).status === 0) return process.execPath;
  const dir = tempDir('pacha-node-');
  chmodSync(dir, 0o755);
  const node = path.join(dir, 'node');
  try {
    linkSync(process.execPath, node);
  } catch {
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
  }
  return node;
}

/** pacha as uid 65534 (nobody), the world's config readable by all. */
function asNobody(args: string[]): Promise<import('../../helpers/cli.js').RunResult> {
  chmodSync(world.dir, 0o755);
  chmodSync(world.config, 0o644);
  return runPacha(['-c', world.config, ...args], { env: { HOME: '/tmp' }, uid: NOBODY, gid: NOBODY, node: nodeForEveryone() });
}

test('not root, a state dir it cannot write: the path and what to do, exit 1, no stack', async () => {
  const etc = path.join(tempDir('pacha-priv-'), 'etc');
  mkdirSync(etc);
  writeFileSync(path.join(etc, 'a.conf'), 'a\n');
  chmodSync(path.dirname(etc), 0o755);
  const r = await asNobody(['watch', etc]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`permission denied: \\w+ ${world.stateDir.replace(/[/.]/g, '\\$&')}`));
  assert.match(r.stderr, /pacha runs as uid 65534, not root/);
  assert.match(r.stderr, /run pacha as root .*--state DIR or pacha\.state\.path/);
  assert.doesNotMatch(r.stderr, /unexpected error|\n\s+at /);
  const json = await asNobody(['--json', 'status']);
  assert.equal(json.code, 1);
  assert.equal(JSON.parse(json.stdout).error.code, 'ENOPERMISSION');
});

test("a private key others may read: OpenSSH's words (UNPROTECTED PRIVATE KEY FILE), exit 2, before any connection", async () => {
  const key = path.join(tempDir('pacha-key-'), 'id');
  keygen(key);
  chmodSync(key, 0o644);
  world.writeConfig([`pacha.ssh.key = ${key}`]);
  const r = await world.pacha(['hosts']);
  world.writeConfig();
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`UNPROTECTED PRIVATE KEY FILE: permissions 0644 for '${key.replace(/[/.]/g, '\\$&')}' are too open`));
  assert.match(r.stderr, new RegExp(`chmod 600 ${key.replace(/[/.]/g, '\\$&')}`));
});

test("a key the master does not know: 'Permission denied (publickey)' in pacha's message, exit 3", async () => {
  const key = path.join(tempDir('pacha-key-'), 'id');
  keygen(key);
  world.writeConfig([`pacha.ssh.key = ${key}`]);
  const r = await world.pacha(['hosts']);
  world.writeConfig();
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /Permission denied \(publickey\)/);
});
