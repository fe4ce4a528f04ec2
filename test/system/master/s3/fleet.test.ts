// `pacha fleet` on an S3 master: no script can run in a bucket, so the fleet is read from each
// repository's pointer.json (its refs, and per ref the commit's time and trailers that the
// remote helper stamps at each push). Hosts are made for real: histories with faked commit
// times (git fast-import) pushed through pacha's own remote helper, and one divergence made
// by two pacha writers on one path. The same rows, states, --json, --prometheus and --html
// as the SSH master's fleet (test/system/fleet/fleet.test.ts).
import assert from 'node:assert/strict';
import { execFile as execFileCallback } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { before, test } from 'node:test';
import { withTrailers } from '../../../../src/store/provenance.js';
import { startMotoS3 } from '../../../helpers/moto-s3.js';
import { makeS3World, PREFIX, type S3World } from '../../../helpers/s3-world.js';
import { tempDir } from '../../../helpers/tmp.js';
import { parseExposition } from '../../fleet/prometheus-parse.js';

const execFile = promisify(execFileCallback);
const s3 = await startMotoS3();
const HOUR = 3600;
const DAY = 24 * HOUR;
const now = Math.floor(Date.now() / 1000);

interface Plan {
  host: string;
  /** Ages of main's commits, seconds; none: main is never pushed. */
  commits: number[];
  heartbeat?: number;
}
const plans: Plan[] = [
  { host: 'web1', commits: [2 * HOUR, 3 * HOUR, 3 * DAY, 40 * DAY], heartbeat: 10 * 60 },
  { host: 'web2', commits: [5 * DAY], heartbeat: 20 * 60 },
  { host: 'db1', commits: [4 * DAY, 5 * DAY], heartbeat: 3 * DAY },
  { host: 'cache1', commits: [HOUR] },
  { host: 'queue1', commits: [], heartbeat: 60 },
];

let admin: S3World;
let dir: string;

function importStream(plan: Plan): string {
  const by = { instance: `i-${plan.host}`, boot: `boot-${plan.host}`, origin: 'daemon' as const };
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const person = (age: number) => `pacha <pacha@${plan.host}> ${now - age} +0000`;
  const commit = (ref: string, age: number, message: string) => `commit ${ref}\nauthor ${person(age)}\ncommitter ${person(age)}\n${data(message)}`;
  const parts = [...plan.commits]
    .sort((a, b) => b - a)
    .map((age) => `${commit('refs/heads/main', age, withTrailers(`/etc: app.conf`, by))}M 644 inline app.conf\n${data(`changed ${age}`)}`);
  if (plan.heartbeat !== undefined) parts.push(`${commit('refs/pacha/heartbeat', plan.heartbeat, withTrailers(`pacha heartbeat of ${plan.host}`, by))}deleteall\n`);
  return parts.join('');
}

const helperEnv = (): NodeJS.ProcessEnv => ({ ...process.env, ...s3.env(), PATH: `${path.join(admin.stateDir, 's3', 'bin')}:${process.env.PATH}`, PACHA_S3_REGION: 'us-east-1' });

/** One simulated host: its history made with fast-import, pushed through pacha's remote helper as its daemon would. */
async function simulate(plan: Plan): Promise<void> {
  const local = path.join(dir, `${plan.host}.git`);
  await execFile('git', ['init', '-q', '--bare', '-b', 'main', local]);
  await new Promise<void>((resolve, reject) => {
    const child = execFileCallback('git', ['fast-import', '--quiet'], { env: { PATH: process.env.PATH!, GIT_DIR: local } }, (error) => (error ? reject(error) : resolve()));
    child.stdin!.end(importStream(plan));
  });
  const refspecs = [...(plan.commits.length ? ['refs/heads/main:refs/heads/main'] : []), ...(plan.heartbeat !== undefined ? ['+refs/pacha/heartbeat:refs/pacha/heartbeat'] : [])];
  await execFile('git', ['--git-dir', local, 'push', '-q', `pacha-s3::s3://${s3.bucket}/${PREFIX}/${plan.host}/etc`, ...refspecs], { env: helperEnv() });
}

const fleet = (args: string[] = []) => admin.pacha(['fleet', ...args]);

before(async () => {
  dir = tempDir('pacha-s3-fleet-');
  admin = makeS3World(s3, { host: 'admin' });
  // Any command opens the master, which writes the helper git finds on PATH.
  assert.equal((await admin.pacha(['add-host', 'spare'])).code, 0);
  for (const plan of plans) await simulate(plan);
  // A real divergence: two instances both named app1 write /x with no common history.
  const [a, b] = [makeS3World(s3, { host: 'app1' }), makeS3World(s3, { host: 'app1' })];
  for (const w of [a, b]) {
    mkdirSync(path.join(w.root, 'x'), { recursive: true });
    writeFileSync(path.join(w.root, 'x', 'who'), `${w.dir}\n`);
  }
  assert.equal((await a.pacha(['watch', path.join(a.root, 'x')])).code, 0);
  const lost = await b.pacha(['watch', path.join(b.root, 'x')]);
  assert.equal(lost.code, 4, lost.stderr);
  // A hook folder is not a repository.
  await s3.putHook(`${PREFIX}/web2/pacha_post/10-reload`, '#!/bin/sh\n');
});

test('pointers carry what the fleet needs: the ref commits\' times and trailers, main\'s recent commit times', async () => {
  const pointer = JSON.parse(await s3.text(`${PREFIX}/web1/etc/pointer.json`)) as { stamps: Record<string, { time: number; trailers: string[] }>; mainTimes: number[] };
  assert.equal(pointer.stamps['refs/heads/main']!.time, now - 2 * HOUR);
  assert.ok(pointer.stamps['refs/heads/main']!.trailers.includes('Pacha-Instance: i-web1'), JSON.stringify(pointer.stamps));
  assert.equal(pointer.stamps['refs/pacha/heartbeat']!.time, now - 10 * 60);
  assert.deepEqual(pointer.mainTimes, [now - 2 * HOUR, now - 3 * HOUR, now - 3 * DAY], 'the commit of 40 days ago is past the timeline');
});

test('human output: diverged, stale, never-pushed and empty first, with the reasons; exit 1', async () => {
  const r = await fleet();
  assert.equal(r.code, 1, r.stderr);
  const rows = r.stdout.split('\n').filter((l) => /^(ok|stale|diverged|never-pushed|empty)\s/.test(l));
  assert.deepEqual(
    rows.map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
    ['diverged app1', 'stale cache1', 'stale db1', 'never-pushed queue1', 'empty spare', 'ok web2', 'ok web1'],
    r.stdout,
  );
  assert.match(r.stdout, /^\s+x: diverged \(1 saved history, newest refs\/pacha\/diverged\/app1\//m);
  assert.match(r.stdout, /^\s+no heartbeat for 3 d \(stale after 24 h\)$/m);
  assert.match(r.stdout, /^\s+no heartbeat ever: is its daemon running\?$/m);
  assert.match(r.stdout, /^7 hosts: 1 diverged, 2 stale, 1 never-pushed, 1 empty, 2 ok$/m);
});

test('--json, --prometheus and --html: the same rows, each host\'s instance from its trailers', async () => {
  const prom = path.join(dir, 'pacha.prom');
  const html = path.join(dir, 'fleet.html');
  const r = await fleet(['--json', '--prometheus', prom, '--html', html]);
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout) as { ok: boolean; master: string; counts: Record<string, number>; hosts: Array<{ host: string; state: string; instance: string | null; heartbeat: string | null; lastPush: string | null; commits24h: number; timeline: number[]; paths: Array<{ name: string }> }> };
  assert.equal(out.ok, false);
  assert.equal(out.master, `s3://${s3.bucket}/${PREFIX}`);
  assert.deepEqual(out.counts, { diverged: 1, stale: 2, 'never-pushed': 1, empty: 1, ok: 2 });
  const web1 = out.hosts.find((h) => h.host === 'web1')!;
  assert.equal(web1.state, 'ok');
  assert.equal(web1.instance, 'i-web1');
  assert.equal(web1.heartbeat, new Date((now - 10 * 60) * 1000).toISOString());
  assert.equal(web1.lastPush, new Date((now - 2 * HOUR) * 1000).toISOString());
  assert.equal(web1.commits24h, 2);
  assert.equal(web1.timeline.reduce((a, b) => a + b, 0), 3);
  assert.deepEqual(web1.paths.map((p) => p.name), ['etc']);
  assert.deepEqual(out.hosts.find((h) => h.host === 'web2')!.paths.map((p) => p.name), ['etc'], 'pacha_post is no repository');
  const metrics = parseExposition(readFileSync(prom, 'utf8'));
  assert.ok(metrics.samples.some((s) => JSON.stringify(s).includes("web1")), "web1 has samples");
  const page = readFileSync(html, 'utf8');
  for (const host of ['app1', 'cache1', 'db1', 'queue1', 'spare', 'web1', 'web2']) assert.match(page, new RegExp(host));
});

test('a pointer that is not pacha\'s makes its host report it, naming the object; the others still read', async () => {
  await s3.putHook(`${PREFIX}/zzz/etc/pointer.json`, '{"version": 1, "refs": {"refs/heads/main": "nope"}}');
  const r = await fleet(['--json']);
  const out = JSON.parse(r.stdout) as { hosts: Array<{ host: string; reasons: string[] }> };
  const zzz = out.hosts.find((h) => h.host === 'zzz')!;
  assert.match(zzz.reasons.join('\n'), /s3:\/\/fleet\/hosts\/zzz\/etc\/pointer\.json has a bad ref/);
  assert.equal(out.hosts.length, 8);
});
