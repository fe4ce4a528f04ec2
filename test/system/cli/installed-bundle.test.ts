// package.json's "bin" is the split bundle `npm run build` makes (scripts/bundle.mjs --split):
// dist/bundle/bin.js, with each command's code in dist/bundle/chunks/. It is what an installed
// `pacha` runs, so it must do what the tsc build does: `status` says the same, and when pacha
// starts itself again (git's S3 remote helper) it starts the bundle's entry, not the chunk the
// S3 code sits in, and the push reaches a real bucket (moto_server).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { POINTER } from '../../../src/master/s3/pointer.js';
import { runPacha, writeConfig } from '../../helpers/cli.js';
import { startMotoS3 } from '../../helpers/moto-s3.js';
import { REPO } from '../../helpers/image-command.js';
import { tempDir } from '../../helpers/tmp.js';

const BIN = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { bin: { pacha: string } }).bin.pacha;
const ENTRY = path.join(REPO, BIN);

/** Two tracked-to-be directories with a few files each, under a fresh temporary directory. */
function trees(dir: string): string[] {
  return ['etc-a', 'etc-b'].map((name) => {
    const tree = path.join(dir, name);
    mkdirSync(tree);
    for (let i = 0; i < 3; i++) writeFileSync(path.join(tree, `file${i}.conf`), `key${i} = ${i}\n`);
    return tree;
  });
}

test('the installed `pacha` is the bundle: its entry and chunks, made by the normal build', () => {
  assert.equal(BIN, 'dist/bundle/bin.js');
  assert.ok(existsSync(ENTRY), `${ENTRY} missing: npm run build makes it`);
  const chunks = readdirSync(path.join(path.dirname(ENTRY), 'chunks'));
  assert.ok(chunks.some((name) => name.startsWith('status-')), chunks.join(' '));
  // The entry holds only bin.ts and what it needs before the CLI: everything else is in chunks.
  assert.ok(readFileSync(ENTRY, 'utf8').length < 8192, `${ENTRY} is not a small entry`);
});

test('status through the bundle reports what the tsc build reports (--json), and --version matches package.json', async () => {
  const dir = tempDir('pacha-bundle-status-');
  const config = writeConfig(dir, ['[DEFAULT]', 'pacha.host = local', `pacha.hosts.path = ${path.join(dir, 'master')}`, 'pacha.hostname = bar', `pacha.state.path = ${path.join(dir, 'state')}`]);
  mkdirSync(path.join(dir, 'master'));
  const [a, b] = trees(dir);
  const watch = await runPacha(['-c', config, 'watch', a!, b!], { entry: ENTRY });
  assert.equal(watch.code, 0, watch.stderr);
  writeFileSync(path.join(a!, 'file0.conf'), 'changed, not pushed\n');
  const fromBundle = await runPacha(['-c', config, '--json', 'status'], { entry: ENTRY });
  const fromTsc = await runPacha(['-c', config, '--json', 'status']);
  assert.equal(fromBundle.code, 0, fromBundle.stderr);
  assert.equal(fromTsc.code, 0, fromTsc.stderr);
  const doc = JSON.parse(fromBundle.stdout) as { paths: Array<{ location: string; onMaster: boolean | null; lastCommit: unknown }> };
  assert.deepEqual(doc.paths.map((p) => [p.location, p.onMaster, p.lastCommit !== null]), [[a, true, true], [b, true, true]]);
  // Everything but the free space, which other tests change between the two runs.
  const steady = (out: string) => ({ ...(JSON.parse(out) as object), stateDirHealth: null });
  assert.deepEqual(steady(fromBundle.stdout), steady(fromTsc.stdout));
  const version = await runPacha(['--version'], { entry: ENTRY });
  assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
});

test('S3 master: git runs the remote helper through the bundle\'s entry, and the push reaches the bucket', async () => {
  const s3 = await startMotoS3();
  const dir = tempDir('pacha-bundle-s3-');
  const stateDir = path.join(dir, 'state');
  const config = writeConfig(dir, ['pacha.hostname = bar', `pacha.host = s3://${s3.bucket}/hosts`, `pacha.state.path = ${stateDir}`, 'pacha.s3.timeout = 5']);
  const [a] = trees(dir);
  const watch = await runPacha(['-c', config, 'watch', a!], { entry: ENTRY, env: s3.env() });
  assert.equal(watch.code, 0, `${watch.stdout}\n${watch.stderr}`);
  const helper = readFileSync(path.join(stateDir, 's3', 'bin', 'git-remote-pacha-s3'), 'utf8');
  assert.ok(helper.includes(` '${ENTRY}' --git-remote-pacha-s3 "$@"`), helper);
  const status = await runPacha(['-c', config, '--json', 'status'], { entry: ENTRY, env: s3.env() });
  assert.equal(status.code, 0, status.stderr);
  const doc = JSON.parse(status.stdout) as { paths: Array<{ unpushed: number; onMaster: boolean | null; lastCommit: { sha: string } }> };
  assert.deepEqual(doc.paths.map((p) => [p.unpushed, p.onMaster]), [[0, true]]);
  // The bucket's pointer names the commit this host made: the helper wrote it.
  const pointers = (await s3.keys('hosts/bar/')).filter((key) => key.endsWith(`/${POINTER}`));
  assert.equal(pointers.length, 1, pointers.join('\n'));
  const pointer = JSON.parse(await s3.text(pointers[0]!)) as { refs: Record<string, string> };
  assert.ok(Object.values(pointer.refs).includes(doc.paths[0]!.lastCommit.sha), JSON.stringify(pointer));
});
