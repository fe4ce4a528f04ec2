// Secrets never quoted, whatever key they arrive under: a private key stored as a SecureString
// under pacha.ssh.key (the wrong name), pacha.host, an unknown key, and in the environment
// under PACHA_HOST. Every output is grepped for every line of the key: stdout and stderr of
// boot (plain, --json, --dry-run), of config and status, and every file pacha wrote.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { startMoto } from '../../helpers/moto.js';
import { keygen } from '../../helpers/sshd.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeWorld, type World } from '../../helpers/world.js';
import { configBlock, makeInstance, type Instance } from '../../helpers/boot-instance.js';

const moto = await startMoto();
let world: World;
let secret: string;
/** Every line of the key's body: none may appear anywhere. */
let fragments: string[];

before(async () => {
  world = await makeWorld({ ssh: true });
  const dir = tempDir('pacha-secret-');
  keygen(path.join(dir, 'leaked'));
  secret = readFileSync(path.join(dir, 'leaked'), 'utf8');
  fragments = secret.trim().split('\n').slice(1, -1).filter((l) => l.length >= 12);
  assert.ok(fragments.length >= 3);
});

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir, { withFileTypes: false }) as string[]) {
    const full = path.join(dir, name);
    const s = statSync(full);
    if (s.isDirectory()) {
      if (name !== 'repos') out.push(...filesUnder(full));
    } else if (!name.startsWith('id_')) out.push(full); // ssh/id_master IS the key file pacha writes on purpose
  }
  return out;
}

function assertNeverQuoted(what: string, text: string): void {
  for (const fragment of fragments) assert.ok(!text.includes(fragment), `${what} quotes the private key:\n${text}`);
  assert.doesNotMatch(text, /BEGIN OPENSSH PRIVATE KEY/, what);
}

async function everyOutput(instance: Instance, env: Record<string, string> = {}): Promise<Array<[string, string, number]>> {
  const outputs: Array<[string, string, number]> = [];
  // --json --no-watch: the JSON document, the log lines and boot.json; --dry-run: the human settings listing.
  for (const args of [['--json', '--no-watch'], ['--dry-run']]) {
    const r = await instance.boot(args, env);
    outputs.push([`boot ${args.join(' ')}`, r.stdout + r.stderr, r.code ?? -1]);
  }
  for (const file of filesUnder(instance.state)) outputs.push([file, readFileSync(file, 'utf8'), 0]);
  return outputs;
}

const SSM = '/pacha/secrets';
function instanceWith(): Instance {
  const instance = makeInstance({ sshd: world.sshd!, hostsPath: world.masterDir, env: { AWS_ENDPOINT_URL_SSM: moto.endpoint, AWS_REGION: 'us-east-1' } });
  instance.writeUserData(`hostname: bar\nssm_path: ${SSM}\n${configBlock([...instance.masterLines, `pacha.ssh.known_hosts = ${world.sshd!.knownHosts}`])}`);
  return instance;
}

for (const key of ['pacha.ssh.key', 'pacha.host', 'pacha.ssh.privatekey']) {
  test(`a SecureString private key under ${key} is never printed nor written`, async () => {
    await moto.reset();
    await moto.put(`${SSM}/hosts/bar/${key}`, secret, 'SecureString');
    // The real key, where it belongs, so boots that get that far reach the master.
    await moto.put(`${SSM}/hosts/bar/pacha.ssh.private_key`, readFileSync(world.sshd!.clientKey, 'utf8'), 'SecureString');
    const instance = instanceWith();
    const outputs = await everyOutput(instance);
    for (const [what, text] of outputs) assertNeverQuoted(what, text);
    const [, first, code] = outputs[0]!;
    if (key === 'pacha.ssh.privatekey') {
      assert.equal(code, 0, first);
      assert.match(first, /unknown key pacha\.ssh\.privatekey/);
      assert.match(outputs[1]![1], /settings \(not the defaults\):/, 'the dry run lists the settings');
    } else {
      assert.equal(code, 2, first);
      assert.match(first, new RegExp(`${key.replace(/\./g, '\\.')}: the value \\(<redacted>\\) is a private key, not a valid ${key.replace(/\./g, '\\.')}: key material goes in pacha\\.ssh\\.private_key`));
    }
    if (key === 'pacha.ssh.privatekey') {
      for (const args of [['config'], ['--json', 'config'], ['status'], ['--json', 'status']]) {
        const r = await instance.pacha(args);
        assertNeverQuoted(`pacha ${args.join(' ')}`, r.stdout + r.stderr);
      }
    }
  });
}

test('key material in the environment under PACHA_HOST and PACHA_SSH_KEY is never printed', async () => {
  await moto.reset();
  const instance = instanceWith();
  for (const variable of ['PACHA_HOST', 'PACHA_SSH_KEY']) {
    const outputs = await everyOutput(instance, { [variable]: secret });
    for (const [what, text] of outputs) assertNeverQuoted(`${variable}: ${what}`, text);
    assert.equal(outputs[0]![2], 2, outputs[0]![1]);
    assert.ok(outputs.some(([what]) => what.endsWith('boot.json')), 'the failed boot wrote its report in the state dir');
  }
});
