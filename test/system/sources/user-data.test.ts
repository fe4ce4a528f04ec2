import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { resolveSettings } from '../../../src/config/settings.js';
import { ConfigError } from '../../../src/errors.js';
import { loadUserData, parseUserData, type UserData } from '../../../src/sources/user-data.js';
import { tempDir } from '../../helpers/tmp.js';

const dir = tempDir('pacha-userdata-');
// Looks like key material; every error test checks it never appears in a message.
const SECRET = 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQSECRETSECRET';

const FULL = `#cloud-config
packages: [git]
pacha:
  hostname: bar
  config: |
    pacha.host = master.example.com
    pacha.ssh.user = bar_user
    pacha.hosts.path = /pacha/hosts
  ssh_key: |
    -----BEGIN OPENSSH PRIVATE KEY-----
    ${SECRET}
    -----END OPENSSH PRIVATE KEY-----
  master_host_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyHostKeyHostKey
  ssm_path: /pacha/prod
`;

let counter = 0;
function file(content: string | Buffer, name = `ud-${++counter}`): string {
  const full = path.join(dir, name);
  writeFileSync(full, content);
  return full;
}

/** Real multipart user data, built the way a provider would: `cloud-init devel make-mime`. */
function makeMime(parts: Array<[string, string, string]>): Buffer {
  const sub = path.join(dir, `mime-${++counter}`);
  mkdirSync(sub);
  const args = ['devel', 'make-mime'];
  for (const [name, content, type] of parts) {
    writeFileSync(path.join(sub, name), content);
    args.push('-a', `${name}:${type}`);
  }
  return execFileSync('cloud-init', args, { cwd: sub });
}

function found(result: UserData): Extract<UserData, { status: 'found' }> {
  assert.equal(result.status, 'found');
  return result as Extract<UserData, { status: 'found' }>;
}

function assertFullSettings(result: UserData, udPath: string): void {
  const ud = found(result);
  assert.equal(ud.hostname, 'bar');
  assert.equal(ud.layer.source, `user data ${udPath}`);
  for (const entry of ud.layer.entries) assert.equal(entry.origin, `user-data:${udPath}`);
  const settings = resolveSettings([ud.layer]);
  assert.equal(settings.get('pacha.host'), 'master.example.com');
  assert.equal(settings.get('pacha.ssh.user'), 'bar_user');
  assert.equal(settings.get('pacha.hosts.path'), '/pacha/hosts');
  assert.equal(settings.get('pacha.ssm.path'), '/pacha/prod');
  assert.equal(settings.get('pacha.ssh.host_key'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyHostKeyHostKey');
  const key = settings.get('pacha.ssh.private_key') ?? '';
  assert.ok(key.startsWith('-----BEGIN OPENSSH PRIVATE KEY-----\n'), 'the key keeps its first line');
  assert.ok(key.includes(SECRET));
  // (values are trimmed while merging; key-material.ts puts the final newline back)
  assert.ok(key.trimEnd().endsWith('-----END OPENSSH PRIVATE KEY-----'), 'the key keeps its last line');
  assert.equal(settings.origin('pacha.ssh.user'), `user-data:${udPath}`);
  assert.equal(settings.origin('pacha.ssh.private_key'), `user-data:${udPath}`);
}

async function rejection(udPath: string): Promise<ConfigError> {
  try {
    await loadUserData(udPath);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    assert.ok(error.message.includes(udPath), `the message names the file: ${error.message}`);
    assert.ok(!error.message.includes(SECRET) && !(error.hint ?? '').includes(SECRET), 'no key material in the error');
    assert.ok(!error.message.includes('AAAAC3Nza'), 'no host key material in the error');
    return error;
  }
  assert.fail(`${udPath} was accepted`);
}

describe('user data: where the pacha: mapping is found', () => {
  test('plain #cloud-config', async () => {
    const p = file(FULL);
    assertFullSettings(await loadUserData(p), p);
  });

  test('gzip-compressed #cloud-config', async () => {
    const p = file(gzipSync(FULL));
    assertFullSettings(await loadUserData(p), p);
  });

  test('one part of a multipart message from `cloud-init devel make-mime`', async () => {
    const mime = makeMime([
      ['boot.sh', '#!/bin/sh\necho hello\n', 'x-shellscript'],
      ['pacha.yaml', FULL, 'cloud-config'],
      ['other.yaml', '#cloud-config\nruncmd: [true]\n', 'cloud-config'],
    ]);
    assert.match(mime.toString(), /^Content-Type: multipart\/mixed/);
    const p = file(mime);
    const result = await loadUserData(p);
    assertFullSettings(result, p);
    assert.equal(found(result).part, 'pacha.yaml');
  });

  test('a gzip-compressed multipart message', async () => {
    const p = file(gzipSync(makeMime([['pacha.yaml', FULL, 'cloud-config']])));
    assertFullSettings(await loadUserData(p), p);
  });

  test('nested multipart, a gzip part, quoted-printable, and an untyped part found by its first line', async () => {
    const gz = gzipSync(FULL).toString('base64').replace(/(.{76})/g, '$1\n');
    const qp = '#cloud-config\nruncmd:\n  - echo caf=C3=A9 =3D ok\n  - echo a long line that is =\nsoft-broken\n';
    const message = [
      'Content-Type: multipart/mixed; boundary="outer"',
      'MIME-Version: 1.0',
      '',
      'preamble, ignored',
      '--outer',
      'Content-Type: multipart/alternative;',
      '\tboundary=inner',
      '',
      '--inner',
      'Content-Type: text/plain; charset="utf-8"',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      qp,
      '--inner',
      'Content-Type: application/x-gzip',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="pacha.yaml.gz"',
      '',
      gz,
      '--inner--',
      '--outer',
      'Content-Type: text/x-shellscript',
      '',
      '#!/bin/sh',
      '--outer--',
      'epilogue, ignored',
      '',
    ].join('\r\n');
    const p = file(message);
    const result = await loadUserData(p);
    assertFullSettings(result, p);
    assert.equal(found(result).part, 'pacha.yaml.gz');
  });

  test('a message Python’s email package builds (quoted-printable cloud-config, 8bit script)', async () => {
    const script = [
      'import sys',
      'from email.mime.multipart import MIMEMultipart',
      'from email.mime.text import MIMEText',
      'from email import charset',
      "charset.add_charset('utf-8', charset.QP, charset.QP, 'utf-8')",
      'm = MIMEMultipart()',
      "m.attach(MIMEText('#!/bin/sh\\necho hi\\n', 'x-shellscript', 'utf-8'))",
      "m.attach(MIMEText(sys.stdin.read(), 'cloud-config', 'utf-8'))",
      'sys.stdout.write(m.as_string())',
    ].join('\n');
    const yaml = FULL.replace('bar_user', 'bär_user_with_a_very_long_name_that_needs_a_soft_line_break_in_qp_encoding_x');
    const message = execFileSync('python3', ['-c', script], { input: yaml });
    assert.match(message.toString(), /quoted-printable/);
    const ud = found(parseUserData(message, '/x'));
    assert.equal(
      resolveSettings([ud.layer]).get('pacha.ssh.user'),
      'bär_user_with_a_very_long_name_that_needs_a_soft_line_break_in_qp_encoding_x',
    );
  });

  test('missing file: absent, not an error', async () => {
    assert.deepEqual(await loadUserData(path.join(dir, 'nope.txt')), { status: 'absent', path: path.join(dir, 'nope.txt') });
  });

  test('user data without pacha: (a script, or cloud-config for other modules)', async () => {
    assert.equal((await loadUserData(file('#!/bin/sh\necho hi\n'))).status, 'none');
    assert.equal((await loadUserData(file('#cloud-config\npackages: [git]\n'))).status, 'none');
    // #cloud-config-archive is another format, not a cloud-config document
    assert.equal((await loadUserData(file('#cloud-config-archive\n- {type: foo}\npacha: 1\n'))).status, 'none');
    // A cloud-config in a shell-script part is not read as cloud-config
    assert.equal(parseUserData(makeMime([['x.yaml', FULL, 'x-shellscript']]), '/x').status, 'none');
  });

  test('only hostname, and the config lines keep the file loader’s notices', async () => {
    const ud = found(await loadUserData(file('#cloud-config\npacha:\n  hostname: foo\n  config: |\n    [other]\n    a = b\n')));
    assert.equal(ud.hostname, 'foo');
    assert.deepEqual(ud.layer.entries, []);
    assert.match(ud.layer.notices?.[0]?.message ?? '', /section \[other\] is ignored/);
  });
});

describe('user data: bad input is exit 2, names the file, never quotes a key', () => {
  test('malformed YAML (in the middle of the key)', async () => {
    const bad = FULL.replace(`    ${SECRET}\n`, `    ${SECRET}\n  - ${SECRET}: [\n`);
    const error = await rejection(file(bad));
    assert.match(error.message, /malformed YAML at line \d+, column \d+/);
  });

  test('malformed YAML inside a multipart part names the part', async () => {
    const error = await rejection(file(makeMime([['broken.yaml', `#cloud-config\npacha: {hostname: [${SECRET}\n`, 'cloud-config']])));
    assert.match(error.message, /malformed YAML \(broken\.yaml\)/);
  });

  test('pacha: that is not a mapping', async () => {
    const error = await rejection(file('#cloud-config\npacha: [bar]\n'));
    assert.match(error.message, /pacha: is a list, not a mapping/);
    assert.match((await rejection(file('#cloud-config\npacha:\n'))).message, /pacha: is empty, not a mapping/);
  });

  test('an unknown key, with the nearest known one', async () => {
    const error = await rejection(file(FULL.replace('ssh_key:', 'ssh_kye:')));
    assert.match(error.message, /unknown key pacha\.ssh_kye \(did you mean ssh_key\?\)/);
    assert.equal((await rejection(file('#cloud-config\npacha:\n  zzzzzzzzzzzzzzzz: 1\n'))).message.includes('did you mean'), false);
  });

  test('a value that is not text', async () => {
    const error = await rejection(file('#cloud-config\npacha:\n  ssh_key: [1, 2]\n'));
    assert.match(error.message, /pacha\.ssh_key is a list; it must be text/);
  });

  test('two parts with pacha:', async () => {
    const error = await rejection(
      file(
        makeMime([
          ['one.yaml', '#cloud-config\npacha:\n  hostname: a\n', 'cloud-config'],
          ['two.yaml', '#cloud-config\npacha:\n  hostname: b\n', 'cloud-config'],
        ]),
      ),
    );
    assert.match(error.message, /two cloud-config parts have a pacha: mapping \(one\.yaml and two\.yaml\)/);
  });

  test('a key set both by its own name and in config:', async () => {
    const error = await rejection(file(FULL.replace('pacha.hosts.path = /pacha/hosts', 'pacha.ssm.path = /other')));
    assert.match(error.message, /pacha\.ssm\.path is set twice/);
  });

  test('corrupt gzip, and a multipart without its boundary', async () => {
    const gz = gzipSync(FULL);
    assert.match((await rejection(file(gz.subarray(0, gz.length - 12)))).message, /gzip data cannot be decompressed/);
    const noBoundary = 'MIME-Version: 1.0\nContent-Type: multipart/mixed\n\n--x\n\n#cloud-config\n';
    assert.match((await rejection(file(noBoundary))).message, /has no boundary parameter/);
  });
});
