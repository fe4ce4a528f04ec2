// Identity fencing on an S3 master: boot reads who holds a host name from each repository's
// pointer (the stamps of main and refs/pacha/heartbeat: one request, no git), and from the
// commits themselves when a pointer has no stamps (written by an older pacha): the same
// refusal either way, naming the holder.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { BootReport } from '../../../../src/boot/report.js';
import { runPacha, type RunResult } from '../../../helpers/cli.js';
import { startMotoS3 } from '../../../helpers/moto-s3.js';
import { PREFIX } from '../../../helpers/s3-world.js';
import { tempDir } from '../../../helpers/tmp.js';

const s3 = await startMotoS3();
const root = tempDir('pacha-s3-fence-root-');
const app = path.join(root, 'etc/app');
mkdirSync(app, { recursive: true });
writeFileSync(path.join(app, 'app.ini'), 'port = 1\n');

/** An instance `id` booting as web1 from user data naming the bucket. */
function instance(id: string): { boot: (args: string[]) => Promise<RunResult>; report: () => BootReport } {
  const dir = tempDir('pacha-s3-fence-');
  const state = path.join(dir, 'state');
  const image = path.join(dir, 'image.conf');
  writeFileSync(image, '# nothing host-specific\n');
  const userData = path.join(dir, 'user-data');
  writeFileSync(userData, ['#cloud-config', 'pacha:', '  hostname: web1', '  config: |', `    pacha.host = s3://${s3.bucket}/${PREFIX}`, `    pacha.state.path = ${state}`, `    pacha.watch = ${app}`, ''].join('\n'));
  const instanceData = path.join(dir, 'instance-data.json');
  writeFileSync(instanceData, JSON.stringify({ v1: { instance_id: id, local_hostname: `ip-${id}` } }));
  return {
    boot: (args) => runPacha(['-c', image, 'boot', '--user-data', userData, '--instance-data', instanceData, ...args], { env: { ...s3.env(), PACHA_STATE_PATH: state } }),
    report: () => JSON.parse(readFileSync(path.join(state, 'boot.json'), 'utf8')) as BootReport,
  };
}

test('a second instance booting as a live host is refused naming the holder, from the stamps and from the commits alike', async () => {
  const first = instance('i-0first');
  const r1 = await first.boot(['--no-watch']);
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(first.report().decision?.action, 'new-host');
  const key = `${PREFIX}/web1/app/pointer.json`;
  const pointer = JSON.parse(await s3.text(key)) as { refs: Record<string, string>; stamps?: Record<string, { trailers: string[] }> };
  assert.ok(pointer.refs['refs/pacha/heartbeat'], 'the first boot sent its heartbeat');
  assert.ok(pointer.stamps?.['refs/pacha/heartbeat']?.trailers.includes('Pacha-Instance: i-0first'), JSON.stringify(pointer.stamps));

  const second = instance('i-0second');
  const refused = async (how: string): Promise<void> => {
    const r = await second.boot(['--no-watch']);
    assert.equal(r.code, 3, `${how}: ${r.stderr}`);
    assert.match(r.stderr, /boot refused: web1 is held by instance i-0first/, how);
    assert.equal(second.report().error?.code, 'EFENCED', how);
  };
  await refused('from the stamps');
  // A pointer without stamps (an older pacha wrote it): the commits are read instead.
  delete pointer.stamps;
  await s3.admin.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: JSON.stringify(pointer) }));
  await refused('from the commits');
});

test('an instance rebuilt from the bucket holds the name by its heartbeat (nothing new to push)', async () => {
  const again = instance('i-0again');
  const key = `${PREFIX}/web1/app/pointer.json`;
  // The holder from the test above is i-0first, live: take the name over, then rebuild as that instance.
  const took = await again.boot(['--no-watch', '--take-over']);
  assert.equal(took.code, 0, took.stderr);
  const rebuilt = instance('i-0again');
  const r = await rebuilt.boot(['--no-watch']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(rebuilt.report().decision?.action, 'rebuild');
  assert.match(rebuilt.report().steps.find((s) => s.step === 'claim')!.detail, /held by i-0again/);
  const pointer = JSON.parse(await s3.text(key)) as { stamps?: Record<string, { trailers: string[] }> };
  assert.ok(pointer.stamps?.['refs/pacha/heartbeat']?.trailers.includes('Pacha-Origin: boot'), JSON.stringify(pointer.stamps));
});
