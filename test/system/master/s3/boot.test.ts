// Rebuild and boot from S3 only: a fresh instance whose user data names the bucket, whose
// credentials come from the environment (as an instance role's would, through the SDK's
// chain), and which has nothing else: no SSH, no key, no local state.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runPacha } from '../../../helpers/cli.js';
import { startMotoS3 } from '../../../helpers/moto-s3.js';
import { makeS3World, PREFIX } from '../../../helpers/s3-world.js';
import { makeAccount, makeRichTree, snapshot } from '../../../helpers/tree.js';
import { tempDir } from '../../../helpers/tmp.js';

const s3 = await startMotoS3();

test('an instance with only user data naming s3://fleet/hosts becomes bar: files, owners, modes and hooks', async () => {
  const world = makeS3World(s3);
  const foo = path.join(world.root, 'opt/foo');
  mkdirSync(foo, { recursive: true });
  makeRichTree(foo, makeAccount());
  assert.equal((await world.pacha(['watch', foo])).code, 0);
  const died = snapshot(foo);
  const markers = tempDir('pacha-s3-boot-markers-');
  await s3.putHook(`${PREFIX}/bar/pacha_post/10-env`, `#!/bin/sh\nenv > ${markers}/post-env\n`);
  rmSync(foo, { recursive: true, force: true });

  const dir = tempDir('pacha-s3-instance-');
  const state = path.join(dir, 'state');
  const image = path.join(dir, 'image-pacha.conf');
  writeFileSync(image, '# baked into the image: nothing host-specific\n');
  const userData = path.join(dir, 'user-data.txt');
  writeFileSync(userData, ['#cloud-config', 'pacha:', '  hostname: bar', '  config: |', `    pacha.host = s3://${s3.bucket}/${PREFIX}`, `    pacha.state.path = ${state}`, '    pacha.hooks.timeout = 20', ''].join('\n'));
  const r = await runPacha(['-c', image, 'boot', '--user-data', userData, '--instance-data', path.join(dir, 'none.json'), '--no-watch'], {
    env: { ...s3.env(), PACHA_STATE_PATH: state },
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual(snapshot(foo), died);
  const report = JSON.parse(readFileSync(path.join(state, 'boot.json'), 'utf8')) as { host: string; decision?: { action: string } };
  assert.equal(report.host, 'bar');
  assert.equal(report.decision?.action, 'rebuild');
  // The credentials reached git's helper, never a hook.
  assert.doesNotMatch(readFileSync(path.join(markers, 'post-env'), 'utf8'), /AWS_SECRET|AWS_ACCESS_KEY/);
  // A second boot of the same instance (a reboot) does not rebuild.
  const reboot = await runPacha(['-c', image, 'boot', '--user-data', userData, '--instance-data', path.join(dir, 'none.json'), '--no-watch'], {
    env: { ...s3.env(), PACHA_STATE_PATH: state },
  });
  assert.equal(reboot.code, 0, reboot.stderr);
  assert.notEqual((JSON.parse(readFileSync(path.join(state, 'boot.json'), 'utf8')) as { decision?: { action: string } }).decision?.action, 'rebuild');
});
