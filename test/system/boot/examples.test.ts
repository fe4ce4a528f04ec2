// Every user-data example under cloud-init/ is read correctly by `pacha boot --dry-run`, as
// an instance would receive it (placeholders filled with real keys, multipart assembled by
// the real `cloud-init devel make-mime`). SSM is moto, the master a real sshd that has bar.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { parse } from 'yaml';
import type { BootReport } from '../../../src/boot/report.js';
import { runPacha } from '../../helpers/cli.js';
import { MOTO_ENV, startMoto } from '../../helpers/moto.js';
import { startSshd, type Sshd } from '../../helpers/sshd.js';
import { tempDir } from '../../helpers/tmp.js';
import { CLOUD_INIT_EXAMPLES, exampleUserData, expectedSettings, generateExampleKeys, type CloudInitExample, type ExampleKeys } from '../image/cloud-init-examples.js';

const moto = await startMoto();

let sshd: Sshd;
let hostsPath: string;
let keys: ExampleKeys;
const work = tempDir('pacha-boot-examples-');

/** What the dry run must conclude, per example, beyond the settings the example declares. */
const OUTCOME: Record<string, { code: number; master?: RegExp; identity: RegExp }> = {
  // Everything in user data, master.example.com: unreachable here, so no decision (exit 3).
  '01-user-data-all-in-one.yaml': { code: 3, master: /master\.example\.com/, identity: /^user data / },
  // Only ssm_path: the master from SSM; the name from instance data (no tag, no hostname:).
  '02-user-data-ssm.yaml': { code: 0, identity: /^v1\.local_hostname of instance data / },
  // write_files' /etc/pacha.conf names the SSM path; SSM's fleet settings override the file.
  '03-write-files-runcmd.yaml': { code: 0, identity: /^user data / },
  '04-multipart': { code: 0, identity: /^user data / },
};

before(async () => {
  sshd = await startSshd();
  hostsPath = path.join(work, 'master');
  mkdirSync(path.join(hostsPath, 'bar'), { recursive: true });
  keys = generateExampleKeys(work);
  // The fleet under /pacha/prod, as 02-user-data-ssm.yaml's header describes it.
  await moto.put('/pacha/prod/pacha.host', '127.0.0.1');
  await moto.put('/pacha/prod/pacha.ssh.port', String(sshd.port));
  await moto.put('/pacha/prod/pacha.ssh.user', sshd.user);
  await moto.put('/pacha/prod/pacha.hosts.path', hostsPath);
  await moto.put('/pacha/prod/pacha.ssh.host_key', sshd.hostKey);
  await moto.put('/pacha/prod/hosts/bar/pacha.ssh.private_key', readFileSync(sshd.clientKey, 'utf8'), 'SecureString');
});

/** /etc/pacha.conf as the example's write_files would leave it (empty when it writes none). */
function imageConfig(example: CloudInitExample, dir: string): string {
  const file = path.join(dir, 'pacha.conf');
  const doc = parse(readFileSync(example.cloudConfigFiles[0]!, 'utf8')) as { write_files?: Array<{ path: string; content: string }> };
  writeFileSync(file, doc.write_files?.find((f) => f.path === '/etc/pacha.conf')?.content ?? '');
  return file;
}

describe('pacha boot --dry-run reads every cloud-init example', () => {
  for (const example of CLOUD_INIT_EXAMPLES) {
    test(example.name, async () => {
      const outcome = OUTCOME[example.name];
      assert.ok(outcome, `add ${example.name} to OUTCOME`);
      const dir = path.join(work, example.name);
      mkdirSync(dir);
      const userData = exampleUserData(example, keys, dir);
      const instanceData = path.join(dir, 'instance-data.json');
      writeFileSync(instanceData, JSON.stringify({ v1: { local_hostname: 'bar', instance_id: 'i-0example', region: 'us-east-1' } }));
      const state = path.join(dir, 'state');
      const r = await runPacha(['-c', imageConfig(example, dir), 'boot', '--dry-run', '--json', '--user-data', userData, '--instance-data', instanceData], {
        env: { ...MOTO_ENV, AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL_SSM: moto.endpoint, PACHA_STATE_PATH: state },
      });
      assert.equal(r.code, outcome.code, r.stderr);
      const result = JSON.parse(r.stdout) as BootReport & { ok: boolean; settings: Array<{ key: string; value: string; origin: string }> };
      const settings = new Map(result.settings.map((s) => [s.key, s]));
      const origin = `user-data:${userData}`;

      // The identity.
      assert.equal(result.host, example.expect.hostname ?? 'bar');
      assert.match(result.identity ?? '', outcome.identity);
      // Each setting the example carries, with the user data as its origin; secrets redacted.
      for (const [key, value] of Object.entries(expectedSettings(example, keys))) {
        const got = settings.get(key);
        assert.equal(got?.origin, origin, `${key}'s origin`);
        assert.equal(got?.value, key === 'pacha.ssh.private_key' ? '<redacted>' : value, key);
      }
      // Nothing else comes from the user data.
      const fromUserData = result.settings.filter((s) => s.origin === origin).map((s) => s.key);
      const expected = [...Object.keys(example.expect.settings), ...(example.expect.hostname ? ['pacha.hostname'] : [])];
      assert.deepEqual(fromUserData.sort(), expected.sort());
      assert.equal(result.steps.find((s) => s.step === 'user-data')?.status, 'ok');

      if (outcome.code === 0) {
        assert.equal(result.decision?.action, 'rebuild', JSON.stringify(result.steps));
        assert.equal(settings.get('pacha.host')?.origin, 'ssm:/pacha/prod/pacha.host');
      } else {
        assert.equal(result.decision, null);
        assert.match(result.steps.find((s) => s.step === 'master')?.detail ?? '', outcome.master!);
      }
      // A dry run writes nothing, and never shows a key.
      assert.equal(existsSync(state), false);
      assert.ok(!r.stdout.includes(keys.sshPrivateKey.trim().split('\n')[2]!));
      assert.ok(!r.stderr.includes(keys.sshPrivateKey.trim().split('\n')[2]!));
    });
  }
});
