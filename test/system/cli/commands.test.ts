// The command line itself: help, version, usage errors, and the commands that work without
// an SSH master (a missing config file, a local master in a temporary directory).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runPacha, writeConfig } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** A standalone master (pacha.host = local) in a fresh directory, and a config file for it. */
function localMaster(): { dir: string; hostsPath: string; config: string } {
  const dir = tempDir();
  const hostsPath = path.join(dir, 'master');
  mkdirSync(hostsPath);
  const config = writeConfig(dir, ['[DEFAULT]', 'pacha.host = local', `pacha.hosts.path = ${hostsPath}`, `pacha.state.path = ${dir}/state`]);
  return { dir, hostsPath, config };
}

/** The command names `pacha --help` lists (aliases after '|'), without `help` itself. */
function listedCommands(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
}

test('--help lists the commands and exits 0', async () => {
  const r = await runPacha(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: pacha /m);
  const commands = listedCommands(r.stdout);
  for (const name of ['config', 'watch', 'unwatch', 'push', 'status', 'hosts', 'add-host', 'rebuild']) {
    assert.ok(commands.includes(name), `${name} is listed: ${commands.join(' ')}`);
  }
});

test('every listed command has --help (exit 0, its own usage line)', async () => {
  const commands = listedCommands((await runPacha(['--help'])).stdout);
  assert.ok(commands.length >= 8);
  const results = await Promise.all(commands.map((name) => runPacha([name, '--help'])));
  results.forEach((r, i) => {
    assert.equal(r.code, 0, `${commands[i]} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: pacha ${commands[i]}\\b`, 'm'), commands[i]);
  });
});

test('--version and -V print package.json version', async () => {
  for (const flag of ['--version', '-V']) {
    const r = await runPacha([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), VERSION);
  }
});

test('an unknown command or option is exit 2 with a usage message', async () => {
  const cases: string[][] = [['frobnicate'], ['--bogus', 'config'], ['config', '--bogus'], ['rebuild', 'bar', '--no-such-flag'], ['add-host'], []];
  for (const args of cases) {
    const r = await runPacha(args);
    assert.equal(r.code, 2, `pacha ${args.join(' ')}: ${r.stderr}`);
    assert.notEqual(r.stderr, '', `pacha ${args.join(' ')} says why`);
  }
});

test('--state DIR overrides pacha.state.path (made absolute), with origin flag:--state', async () => {
  const { dir, config } = localMaster();
  const r = await runPacha(['-c', config, '--state', 'rel/state', '--json', 'config'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const key = (JSON.parse(r.stdout) as { keys: Array<{ key: string; value: string; origin: string }> }).keys.find((k) => k.key === 'pacha.state.path');
  assert.deepEqual(key, { key: 'pacha.state.path', value: path.join(dir, 'rel/state'), origin: 'flag:--state' });
});

test('a missing config file: push with nothing tracked exits 0 and pushes nothing', async () => {
  const dir = tempDir();
  const missing = path.join(dir, 'missing.conf');
  const r = await runPacha(['-c', missing, '--state', path.join(dir, 'state'), 'push']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /nothing is tracked; nothing to push/);
  const json = await runPacha(['-c', missing, '--state', path.join(dir, 'state'), '--json', 'push']);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), { ok: true, paths: [] });
  // Nothing was pushed anywhere: the default local master directory was not created here.
  assert.deepEqual(readdirSync(dir).filter((n) => n !== 'state'), []);
});

test('--daemon-run-once is push', async () => {
  const dir = tempDir();
  const r = await runPacha(['-c', path.join(dir, 'missing.conf'), '--state', path.join(dir, 'state'), '--daemon-run-once']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /nothing is tracked; nothing to push/);
});

test('hosts with a missing config file and no PACHA_HOST: exit 2 naming the file', async () => {
  const missing = path.join(tempDir(), 'missing.conf');
  const r = await runPacha(['-c', missing, 'hosts']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`pacha: error: config file ${missing} not found`));
  assert.match(r.stderr, /PACHA_HOST/, 'the hint says what else would do');
});

test('hosts with a missing config file but PACHA_HOST and PACHA_HOSTS_PATH: works', async () => {
  const { dir, hostsPath } = localMaster();
  mkdirSync(path.join(hostsPath, 'bar'));
  const r = await runPacha(['-c', path.join(dir, 'missing.conf'), 'hosts'], {
    env: { PACHA_HOST: 'local', PACHA_HOSTS_PATH: hostsPath, PACHA_STATE_PATH: path.join(dir, 'state') },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^bar: /m);
});

test('add-host and --add-host create a host on a local master, then say it exists', async () => {
  const { hostsPath, config } = localMaster();
  const first = await runPacha(['-c', config, '--add-host', 'bar']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^created bar on /m);
  assert.ok(statSync(path.join(hostsPath, 'bar')).isDirectory());
  const second = await runPacha(['-c', config, '--add-host', 'bar']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^bar already exists on /m);
  const third = await runPacha(['-c', config, '--json', 'add-host', 'bar']);
  assert.equal(third.code, 0, third.stderr);
  assert.deepEqual(JSON.parse(third.stdout), { ok: true, host: 'bar', outcome: 'exists' });
  const listed = await runPacha(['-c', config, 'hosts']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^bar: \(nothing tracked\)$/m);
});

test('add-host refuses a name that would escape the hosts path: exit 2, nothing created', async () => {
  const { dir, hostsPath, config } = localMaster();
  for (const name of ['../evil', 'a/b', '..']) {
    const r = await runPacha(['-c', config, 'add-host', name]);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`host name '${name.replace(/\./g, '\\.')}'`));
  }
  assert.deepEqual(readdirSync(hostsPath), []);
  assert.equal(existsSync(path.join(dir, 'evil')), false);
});

test('--rebuild bar without a terminal and without --yes: exit 2 with the hint to pass --yes, nothing touched', async () => {
  const { dir, config } = localMaster();
  assert.equal((await runPacha(['-c', config, 'add-host', 'bar'])).code, 0);
  const root = path.join(dir, 'root');
  mkdirSync(root);
  const r = await runPacha(['-c', config, '--root', root, '--rebuild', 'bar'], { input: '\n' });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /refusing to rebuild bar without confirmation: standard input is not a terminal/);
  assert.match(r.stderr, /pass --yes/);
  assert.deepEqual(readdirSync(root), []);
});
