// Enrolment: the authorized_keys editing rules (pure), then `pacha add-host --key/--keygen`,
// `remove-host` and `authorized-keys` as an admin runs them on the master.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  EnrolmentProblem,
  enrolledLine,
  enrolledLines,
  parseAuthorizedKeys,
  parsePublicKey,
  planEnrolment,
  planRevocation,
} from '../../../src/master/enrol/authorized-keys.js';
import { runPacha } from '../../helpers/cli.js';
import { keygen } from '../../helpers/sshd.js';
import { tempDir } from '../../helpers/tmp.js';

const KEY_A = { type: 'ssh-ed25519', blob: 'AAAAC3NzaC1lZDI1NTE5AAAAIKo4n4a9f0h1mJ4G5F4d9x3N7bqvVY2y9mX3QY1hZl3c' };
const KEY_B = { type: 'ssh-ed25519', blob: 'AAAAC3NzaC1lZDI1NTE5AAAAIBq4n4a9f0h1mJ4G5F4d9x3N7bqvVY2y9mX3QY1hZl3d' };
const COMMAND = { node: '/usr/bin/node', pacha: '/opt/pacha dir/main.js', config: '/etc/pacha.conf' };

test('an enrolled line: restrict, the forced command with every path quoted for sh, the key, pacha:HOST', () => {
  assert.equal(
    enrolledLine(COMMAND, KEY_A, 'alpha'),
    `restrict,command="/usr/bin/node '/opt/pacha dir/main.js' -c /etc/pacha.conf serve alpha" ${KEY_A.type} ${KEY_A.blob} pacha:alpha`,
  );
  assert.throws(() => enrolledLine({ ...COMMAND, config: '/etc/pa"cha.conf' }, KEY_A, 'alpha'), EnrolmentProblem);
});

test('parseAuthorizedKeys reads options with quoted spaces, and tells enrolled lines from the others', () => {
  const text = [
    '# a comment',
    `${KEY_B.type} ${KEY_B.blob} admin@laptop`,
    enrolledLine(COMMAND, KEY_A, 'alpha'),
    `from="10.0.0.0/8",command="echo \\"hi there\\"" ${KEY_B.type} ${KEY_B.blob}`,
    'garbage line',
  ].join('\n');
  const keys = parseAuthorizedKeys(text);
  assert.deepEqual(keys.map((k) => [k.index, k.enrolledFor, k.blob === KEY_A.blob]), [
    [1, undefined, false],
    [2, 'alpha', true],
    [3, undefined, false],
  ]);
  assert.deepEqual(enrolledLines(text), [enrolledLine(COMMAND, KEY_A, 'alpha')]);
  assert.deepEqual(enrolledLines(text, KEY_B), []);
});

test('planEnrolment: added once, then unchanged; a new forced command updates in place; other lines kept', () => {
  const base = `${KEY_B.type} ${KEY_B.blob} admin\n`;
  const line = enrolledLine(COMMAND, KEY_A, 'alpha');
  const added = planEnrolment(base, KEY_A, 'alpha', line, 'ak');
  assert.equal(added.outcome, 'added');
  assert.equal(added.text, `${base}${line}\n`);
  assert.deepEqual(planEnrolment(added.text, KEY_A, 'alpha', line, 'ak'), { outcome: 'unchanged', text: added.text });
  const moved = enrolledLine({ ...COMMAND, pacha: '/usr/lib/pacha/main.js' }, KEY_A, 'alpha');
  const updated = planEnrolment(added.text, KEY_A, 'alpha', moved, 'ak');
  assert.equal(updated.outcome, 'updated');
  assert.equal(updated.text, `${base}${moved}\n`);
});

test('planEnrolment refuses one key for two hosts, and a key that already has unrestricted access', () => {
  const enrolled = `${enrolledLine(COMMAND, KEY_A, 'alpha')}\n`;
  assert.throws(() => planEnrolment(enrolled, KEY_A, 'bravo', enrolledLine(COMMAND, KEY_A, 'bravo'), 'ak'), /already enrolled for host 'alpha' \(ak line 1\)/);
  const plain = `${KEY_A.type} ${KEY_A.blob} me\n`;
  assert.throws(() => planEnrolment(plain, KEY_A, 'alpha', enrolledLine(COMMAND, KEY_A, 'alpha'), 'ak'), /unrestricted access: ak line 1/);
});

test('planRevocation takes out the host (or one key of it) and nothing else', () => {
  const text = [`${KEY_B.type} ${KEY_B.blob} admin`, enrolledLine(COMMAND, KEY_A, 'alpha'), enrolledLine(COMMAND, KEY_B, 'alpha')].join('\n') + '\n';
  assert.deepEqual(planRevocation(text, 'alpha', KEY_A), { removed: 1, text: [`${KEY_B.type} ${KEY_B.blob} admin`, enrolledLine(COMMAND, KEY_B, 'alpha')].join('\n') + '\n' });
  assert.deepEqual(planRevocation(text, 'alpha'), { removed: 2, text: `${KEY_B.type} ${KEY_B.blob} admin\n` });
  assert.deepEqual(planRevocation(text, 'bravo'), { removed: 0, text });
});

test('parsePublicKey refuses a private key (without quoting it) and anything that is not one public key', () => {
  assert.throws(() => parsePublicKey('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----\n', 'k'), (e: Error) => {
    assert.match(e.message, /k holds a private key; give the public key/);
    assert.doesNotMatch(e.message, /b3BlbnNzaC1rZXk/);
    return true;
  });
  assert.throws(() => parsePublicKey('ssh-dss AAAA', 'k'), /not one OpenSSH public key/);
  assert.deepEqual(parsePublicKey(`${KEY_A.type} ${KEY_A.blob} me@there\n`, 'k'), KEY_A);
});

/** A master as an admin has it: a config file naming hosts_path, an authorized_keys with the admin's own key. */
function master(): { dir: string; hosts: string; conf: string; keys: string; admin: string } {
  const dir = tempDir('pacha-enrol-');
  const hosts = path.join(dir, 'hosts');
  mkdirSync(hosts);
  const conf = path.join(dir, 'master.conf');
  writeFileSync(conf, `pacha.hosts.path = ${hosts}\n`);
  const keys = path.join(dir, 'ssh', 'authorized_keys');
  mkdirSync(path.dirname(keys), { mode: 0o700 });
  const admin = `${KEY_B.type} ${KEY_B.blob} admin@laptop\n`;
  writeFileSync(keys, admin, { mode: 0o600 });
  return { dir, hosts, conf, keys, admin };
}

test('pacha add-host HOST --key: the host dir (0700) and one line, idempotent; the admin line kept; remove-host takes it out', async () => {
  const m = master();
  const key = path.join(m.dir, 'alpha_key');
  keygen(key);
  const args = ['-c', m.conf, 'add-host', 'alpha', '--key', `${key}.pub`, '--authorized-keys', m.keys];
  const first = await runPacha(args);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /enrolled alpha's key in .*authorized_keys; its directory .*hosts\/alpha was created \(0700\)/);
  assert.equal(statSync(path.join(m.hosts, 'alpha')).mode & 0o777, 0o700);
  const again = await runPacha([...args, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).key, 'unchanged');
  const text = readFileSync(m.keys, 'utf8');
  assert.ok(text.startsWith(m.admin));
  assert.equal(text.split('\n').filter((l) => l.includes('serve alpha')).length, 1);
  assert.match(text, new RegExp(`command="${process.execPath.replace(/[/.]/g, '\\$&')} \\S+/cli/serve-main\\.js -c ${m.conf.replace(/[/.]/g, '\\$&')} serve alpha"`));
  assert.equal(statSync(m.keys).mode & 0o777, 0o600);

  const listed = await runPacha(['-c', m.conf, 'authorized-keys', ...readFileSync(`${key}.pub`, 'utf8').split(' ').slice(0, 2)], {
    env: { PACHA_MASTER_AUTHORIZED_KEYS: m.keys },
  });
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(listed.stdout.trim().split('\n').length, 1);
  assert.match(listed.stdout, /serve alpha" ssh-ed25519 /);

  const other = await runPacha(['-c', m.conf, 'add-host', 'bravo', '--key', `${key}.pub`, '--authorized-keys', m.keys]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /already enrolled for host 'alpha'/);

  const removed = await runPacha(['-c', m.conf, 'remove-host', 'alpha', '--authorized-keys', m.keys]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /revoked 1 key\(s\) of alpha .*its history stays/);
  assert.equal(readFileSync(m.keys, 'utf8'), m.admin);
  const none = await runPacha(['-c', m.conf, 'add-host', 'alpha', '--revoke', '--authorized-keys', m.keys]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no key is enrolled for alpha/);
});

test('add-host --keygen prints the private key once, the pin and the user data; --key-out writes it 0600 instead', async () => {
  const m = master();
  const hostKey = path.join(m.dir, 'host_ed25519');
  keygen(hostKey);
  const printed = await runPacha(['-c', m.conf, 'add-host', 'gamma', '--keygen', '--authorized-keys', m.keys, '--host-key-file', `${hostKey}.pub`]);
  assert.equal(printed.code, 0, printed.stderr);
  assert.equal(printed.stdout.match(/BEGIN OPENSSH PRIVATE KEY/g)?.length, 1);
  const pin = readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
  assert.ok(printed.stdout.includes(`pacha.ssh.host_key = ${pin}`));
  assert.match(printed.stdout, /hostname: gamma/);
  assert.match(printed.stdout, /--name \/pacha\/prod\/hosts\/gamma\/pacha\.ssh\.private_key/);

  const out = path.join(m.dir, 'delta.key');
  const written = await runPacha(['-c', m.conf, '--json', 'add-host', 'delta', '--keygen', '--key-out', out, '--authorized-keys', m.keys]);
  assert.equal(written.code, 0, written.stderr);
  assert.doesNotMatch(written.stdout + written.stderr, /PRIVATE KEY-----\n[A-Za-z0-9]/);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  assert.match(readFileSync(out, 'utf8'), /BEGIN OPENSSH PRIVATE KEY/);
  assert.equal(JSON.parse(written.stdout).keyOut, out);
  const refused = await runPacha(['-c', m.conf, '--json', 'add-host', 'epsilon', '--keygen', '--authorized-keys', m.keys]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /needs --key-out FILE: a private key never goes into JSON/);
  assert.equal(readFileSync(m.keys, 'utf8').split('\n').filter((l) => l.includes('pacha:')).length, 2);
});

test('ten enrolments at once: the lock keeps every line', async () => {
  const m = master();
  const hosts = Array.from({ length: 10 }, (_, i) => `h${i}`);
  const keys = hosts.map((h) => {
    const file = path.join(m.dir, `${h}_key`);
    keygen(file);
    return `${file}.pub`;
  });
  const results = await Promise.all(hosts.map((h, i) => runPacha(['-c', m.conf, 'add-host', h, '--key', keys[i]!, '--authorized-keys', m.keys])));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(m.keys, 'utf8');
  for (const h of hosts) assert.match(text, new RegExp(`serve ${h}" `));
  assert.ok(text.startsWith(m.admin));
});

test('hosts_path from the environment is refused for enrolment: sshd gives the gate no environment', async () => {
  const m = master();
  const key = path.join(m.dir, 'k');
  keygen(key);
  const r = await runPacha(['add-host', 'alpha', '--key', `${key}.pub`, '--authorized-keys', m.keys], { env: { PACHA_HOSTS_PATH: m.hosts, PACHA_CONFIG: '/nonexistent.conf' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /pacha\.hosts\.path comes from env:PACHA_HOSTS_PATH, which the gate will not see/);
  assert.equal(readFileSync(m.keys, 'utf8'), m.admin);
});
