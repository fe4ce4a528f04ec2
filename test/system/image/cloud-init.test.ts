// cloud-init/ examples checked by the real cloud-init 22.4: `cloud-init schema` accepts
// every cloud-config (and refuses a broken one), `cloud-init devel make-mime` assembles the
// multipart example, and the rules that keep boot from deadlocking hold.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { loadUserData } from '../../../src/sources/user-data.js';
import { tempDir } from '../../helpers/tmp.js';
import {
  CLOUD_INIT_DIR,
  CLOUD_INIT_EXAMPLES,
  EXAMPLE_PLACEHOLDERS,
  MULTIPART_DIR,
  buildMultipart,
  exampleUserData,
  expectedSettings,
  generateExampleKeys,
} from './cloud-init-examples.js';
import { REPO, runCommand } from '../../helpers/image-command.js';

function schema(file: string) {
  return runCommand('cloud-init', ['schema', '--config-file', file]);
}

function assertValid(file: string): void {
  const r = schema(file);
  assert.equal(r.status, 0, r.describe);
  assert.match(r.stdout, /^Valid cloud-config: /m, r.describe);
}

interface WriteFile {
  path: string;
  content: string;
  permissions?: unknown;
}

/** One part of a MIME message: its headers (lower-cased names) and decoded body. */
interface MimePart {
  headers: Record<string, string>;
  body: string;
}

/** Enough of RFC 2046 to read what make-mime writes: one level, base64 or plain parts. */
function splitMime(message: string): MimePart[] {
  const boundary = /boundary="([^"]+)"/.exec(message)?.[1];
  assert.ok(boundary, 'a multipart boundary');
  const chunks = message.split(`--${boundary}`).slice(1, -1);
  return chunks.map((chunk) => {
    const [head = '', ...rest] = chunk.replace(/^\r?\n/, '').split(/\r?\n\r?\n/);
    const headers = Object.fromEntries(
      head.split(/\r?\n/).map((l) => {
        const i = l.indexOf(':');
        return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
      }),
    );
    const raw = rest.join('\n\n');
    const body = headers['content-transfer-encoding'] === 'base64' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    return { headers, body };
  });
}

describe('cloud-init examples', () => {
  it('the list covers every example in cloud-init/', () => {
    const onDisk = readdirSync(CLOUD_INIT_DIR).filter((n) => /^\d\d-/.test(n)).sort();
    assert.deepEqual(onDisk, CLOUD_INIT_EXAMPLES.map((e) => e.name).sort());
  });

  for (const example of CLOUD_INIT_EXAMPLES) {
    describe(example.name, () => {
      for (const file of example.cloudConfigFiles) {
        it(`${path.basename(file)} passes cloud-init schema as shipped`, () => assertValid(file));

        it(`${path.basename(file)} starts with #cloud-config and a header saying when to use it`, () => {
          const lines = readFileSync(file, 'utf8').split('\n');
          assert.equal(lines[0], '#cloud-config');
          assert.ok(lines.some((l) => /^# .*When to use it:/.test(l)), 'a "When to use it:" header line');
        });
      }

      it('has a pacha: mapping with what pacha should read', () => {
        const doc = parseYaml(readFileSync(example.cloudConfigFiles[0]!, 'utf8')) as { pacha?: Record<string, unknown> };
        assert.ok(doc.pacha && typeof doc.pacha === 'object', 'a pacha: mapping');
        assert.equal(doc.pacha.hostname, example.expect.hostname);
        if (example.expect.settings['pacha.ssm.path']) assert.equal(doc.pacha.ssm_path, example.expect.settings['pacha.ssm.path']);
      });
    });
  }

  describe("pacha's user-data reader, on each example as an instance receives it", () => {
    for (const example of CLOUD_INIT_EXAMPLES) {
      it(example.name, async () => {
        const dir = tempDir();
        const keys = generateExampleKeys(dir);
        const read = await loadUserData(exampleUserData(example, keys, dir));
        assert.equal(read.status, 'found');
        if (read.status !== 'found') return;
        assert.equal(read.hostname, example.expect.hostname);
        const settings = Object.fromEntries(read.layer.entries.map((e) => [e.key, e.raw ?? String(e.value)]));
        assert.deepEqual(settings, expectedSettings(example, keys));
        if (example.kind === 'multipart') assert.equal(read.part, 'cloud-config.yaml');
      });
    }
  });

  it('01 with its placeholders replaced by real keys is still valid and carries the key intact', () => {
    const dir = tempDir();
    const keys = generateExampleKeys(dir);
    const example = CLOUD_INIT_EXAMPLES.find((e) => e.hasPlaceholders)!;
    const file = exampleUserData(example, keys, dir);
    const text = readFileSync(file, 'utf8');
    const data = text.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
    for (const placeholder of Object.values(EXAMPLE_PLACEHOLDERS)) assert.ok(!data.includes(placeholder), placeholder);
    assertValid(file);
    const { pacha } = parseYaml(text) as { pacha: Record<string, string> };
    assert.equal(pacha.ssh_key, keys.sshPrivateKey);
    assert.equal(pacha.master_host_key, keys.masterHostKey);
    assert.match(pacha.ssh_key!, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
  });

  describe('cloud-init schema refuses a broken cloud-config', () => {
    const broken: Array<[string, string]> = [
      ['write_files permissions as a number, not an octal string', "write_files:\n  - path: /etc/pacha.conf\n    permissions: 0600\n    content: x\n"],
      ['runcmd that is not a list', 'runcmd: 5\n'],
    ];
    for (const [what, body] of broken) {
      it(what, () => {
        const file = path.join(tempDir(), 'broken.yaml');
        writeFileSync(file, `#cloud-config\n${body}`);
        const r = schema(file);
        assert.equal(r.status, 1, r.describe);
        assert.doesNotMatch(r.stdout, /Valid cloud-config/);
      });
    }
  });

  describe('03: write_files + runcmd', () => {
    const file = path.join(CLOUD_INIT_DIR, '03-write-files-runcmd.yaml');
    const doc = parseYaml(readFileSync(file, 'utf8')) as { write_files: WriteFile[]; runcmd: string[][] };

    it('writes systemd/pacha.service verbatim', () => {
      const unit = doc.write_files.find((f) => f.path === '/etc/systemd/system/pacha.service');
      assert.ok(unit);
      assert.equal(unit.content, readFileSync(path.join(REPO, 'systemd', 'pacha.service'), 'utf8'));
    });

    it('writes /etc/pacha.conf with permissions as the octal string 0600', () => {
      const conf = doc.write_files.find((f) => f.path === '/etc/pacha.conf');
      assert.ok(conf);
      assert.equal(conf.permissions, '0600');
      assert.match(conf.content, /^pacha\.host = /m);
    });

    it('starts the unit without blocking cloud-init', () => {
      const commands = doc.runcmd.map((c) => c.join(' '));
      assert.deepEqual(commands, ['systemctl daemon-reload', 'systemctl enable pacha.service', 'systemctl --no-block start pacha.service']);
    });
  });

  it('no example waits for cloud-init or starts pacha blocking', () => {
    const texts = [
      ...CLOUD_INIT_EXAMPLES.flatMap((e) => e.cloudConfigFiles),
      path.join(MULTIPART_DIR, 'prepare-data-disk.sh'),
    ].map((f) => readFileSync(f, 'utf8').split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n'));
    for (const text of texts) {
      assert.doesNotMatch(text, /cloud-init status --wait/);
      assert.doesNotMatch(text, /systemctl\b(?![,\s]+--no-block)[^\n]*\bstart\b/);
    }
  });

  describe('04: multipart', () => {
    it('the shell part passes shellcheck', () => {
      const r = runCommand('shellcheck', [path.join(MULTIPART_DIR, 'prepare-data-disk.sh')]);
      assert.equal(r.status, 0, r.describe);
    });

    it("is assembled by README.md's make-mime command into a cloud-config and a shell part", () => {
      const out = path.join(tempDir(), 'user-data.mime');
      buildMultipart(out);
      const message = readFileSync(out, 'utf8');
      assert.match(message, /^Content-Type: multipart\/mixed; boundary=/);
      const parts = splitMime(message);
      assert.deepEqual(
        parts.map((p) => p.headers['content-type']),
        ['text/cloud-config; charset="utf-8"', 'text/x-shellscript; charset="utf-8"'],
      );
      assert.equal(parts[0]!.body, readFileSync(path.join(MULTIPART_DIR, 'cloud-config.yaml'), 'utf8'));
      assert.equal(parts[1]!.body, readFileSync(path.join(MULTIPART_DIR, 'prepare-data-disk.sh'), 'utf8'));
    });
  });
});
