// The client's side of the gate against what a hostile or broken master could answer: every
// answer is checked before use, and nothing is written outside the stage's hook directory.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { MasterError } from '../../../src/errors.js';
import { GateClient } from '../../../src/master/gate/client.js';
import { REFUSED_PREFIX, REFUSED_STATUS } from '../../../src/master/gate/protocol.js';
import { tempDir } from '../../helpers/tmp.js';

const HELLO = { gate: 1, host: 'alpha', hostsPath: '/pacha/hosts' };

/** A client whose master answers every command with `answer` (and records what was asked). */
function clientAnswering(answer: { status: number; stdout?: string; stderr?: string }): { client: GateClient; asked: string[] } {
  const asked: string[] = [];
  const client = new GateClient(
    async (command) => {
      asked.push(command);
      return { status: answer.status, stdout: answer.stdout ?? '', stderr: answer.stderr ?? '' };
    },
    'pacha@master:22',
    '/pacha/hosts',
    HELLO,
  );
  return { client, asked };
}

const hooksAnswer = (hooks: unknown[]): { status: number; stdout: string } => ({ status: 0, stdout: JSON.stringify({ hooks }) });
const data = (text: string): string => Buffer.from(text).toString('base64');

test('hooks: files are written with their modes inside the hook dir only; other types are listed, not written', async () => {
  const dir = path.join(tempDir(), 'hooks', 'pre');
  const { client, asked } = clientAnswering(
    hooksAnswer([
      { name: '10-a', mode: 0o755, type: 'file', data: data('#!/bin/sh\necho a\n') },
      { name: 'link', mode: 0o777, type: 'symlink' },
    ]),
  );
  const hooks = await client.fetchHooks('alpha', 'pre', dir);
  assert.deepEqual(asked, ['pacha-gate hooks alpha pre']);
  assert.deepEqual(hooks.map((h) => [h.name, h.type, h.localPath]), [['10-a', 'file', path.join(dir, '10-a')], ['link', 'symlink', undefined]]);
  assert.equal(statSync(path.join(dir, '10-a')).mode & 0o7777, 0o755);
  assert.deepEqual(readdirSync(dir), ['10-a']);
});

test('hooks: a name that escapes, a hidden name, an unknown type or a duplicate is refused, and nothing escapes', async () => {
  const base = tempDir();
  for (const bad of [
    [{ name: '../escaped', mode: 0o755, type: 'file', data: data('x') }],
    [{ name: '/etc/cron.d/x', mode: 0o755, type: 'file', data: data('x') }],
    [{ name: '.hidden', mode: 0o755, type: 'file', data: data('x') }],
    [{ name: 'a\nb', mode: 0o755, type: 'file', data: data('x') }],
    [{ name: 'x', mode: 0o755, type: 'device' }],
    [{ name: 'x', mode: 'rwx', type: 'file', data: data('x') }],
    [{ name: 'dup', mode: 0o755, type: 'file', data: data('1') }, { name: 'dup', mode: 0o755, type: 'file', data: data('2') }],
  ]) {
    const dir = path.join(tempDir(), 'hooks');
    const { client } = clientAnswering(hooksAnswer(bad));
    await assert.rejects(client.fetchHooks('alpha', 'pre', dir), (e) => e instanceof Error, JSON.stringify(bad));
  }
  assert.equal(existsSync(path.join(base, 'escaped')), false);
  assert.equal(existsSync(path.join(path.dirname(base), 'escaped')), false);
});

test('describe: repositories with unsafe names are dropped; a malformed answer is an error naming the verb', async () => {
  const { client } = clientAnswering({
    status: 0,
    stdout: JSON.stringify({ listing: { host: 'alpha', repositories: ['etc', '../bravo', '.git', 'pacha_pre', 'a/b'], hasPreHooks: true, hasPostHooks: 'yes' } }),
  });
  assert.deepEqual(await client.describeHost('alpha'), { host: 'alpha', repositories: ['etc'], hasPreHooks: true, hasPostHooks: false });
  const broken = clientAnswering({ status: 0, stdout: 'sh: 1: welcome to the master\n' }).client;
  await assert.rejects(broken.describeHost('alpha'), (e) => e instanceof MasterError && e.code === 'EGATEANSWER' && /describe/.test(e.message));
  const none = clientAnswering({ status: 0, stdout: JSON.stringify({ listing: null }) }).client;
  assert.equal(await none.describeHost('alpha'), undefined);
});

test("a refusal carries the gate's reason and which host the key is enrolled for", async () => {
  const { client } = clientAnswering({ status: REFUSED_STATUS, stderr: `${REFUSED_PREFIX}this key is enrolled for host 'alpha'; it may not reach host "bravo"\n` });
  await assert.rejects(client.describeHost('bravo'), (e) => {
    assert.ok(e instanceof MasterError);
    assert.equal(e.code, 'EGATE');
    assert.match(e.message, /pacha@master:22 refused: this key is enrolled for host 'alpha'/);
    assert.match(e.hint ?? '', /enrolled for host 'alpha'/);
    return true;
  });
  const { client: c2, asked } = clientAnswering({ status: 0, stdout: '{}' });
  await assert.rejects(c2.ensureRepository('alpha', '../x'), (e) => e instanceof MasterError && e.code === 'EBADNAME');
  assert.deepEqual(asked, [], 'an unsafe name is refused before anything is sent');
});
