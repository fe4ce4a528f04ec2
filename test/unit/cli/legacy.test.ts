import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LEGACY_FLAGS, translateLegacyArgs } from '../../../src/cli/legacy.js';

const cases: Array<[string[], string[]]> = [
  [['--watch', '/opt/foo'], ['watch', '/opt/foo']],
  [['--watch', '/opt/foo', '/opt/bar'], ['watch', '/opt/foo', '/opt/bar']],
  [['--watch=/x'], ['watch', '/x']],
  [['--watch=/x=y'], ['watch', '/x=y']],
  [['--watch-single', 'F'], ['watch', '--single', 'F']],
  [['--watch-single=F'], ['watch', '--single', 'F']],
  [['--rebuild', 'bar'], ['rebuild', 'bar']],
  [['--rebuild', 'bar', '--directory', 'foo'], ['rebuild', 'bar', '--directory', 'foo']],
  [['--rebuild', '--yes'], ['rebuild', '--yes']],
  [['--config-values'], ['config']],
  [['--config-values', '--json'], ['config', '--json']],
  [['--add-host', 'h'], ['add-host', 'h']],
  [['--daemon-run-once'], ['push']],
  [['--daemon-foreground'], ['daemon']],
  [['--add-config', '/etc/other.conf'], ['-c', '/etc/other.conf', 'config', '--check']],
  // Global options before the legacy flag stay before the command they become.
  [['-c', '/tmp/p.conf', '-v', '--rebuild', 'bar', '--yes'], ['-c', '/tmp/p.conf', '-v', 'rebuild', 'bar', '--yes']],
  [['--state', '/s', '--json', '--watch', '/opt/foo'], ['--state', '/s', '--json', 'watch', '/opt/foo']],
  [['--json', '--config-values'], ['--json', 'config']],
];

for (const [argv, expected] of cases) {
  test(`translateLegacyArgs ${argv.join(' ')} -> ${expected.join(' ')}`, () => {
    assert.deepEqual(translateLegacyArgs(argv), expected);
  });
}

test('every legacy flag has a case above', () => {
  const covered = new Set(cases.map(([argv]) => argv.find((a) => a.startsWith('--') && Object.hasOwn(LEGACY_FLAGS, a.split('=')[0]!))?.split('=')[0]));
  assert.deepEqual([...covered].filter(Boolean).sort(), Object.keys(LEGACY_FLAGS).sort());
});

test('argv without a legacy flag is returned unchanged (and is a copy)', () => {
  const argv = ['-c', '/etc/pacha.conf', 'rebuild', 'bar', '--directory', 'foo'];
  const out = translateLegacyArgs(argv);
  assert.deepEqual(out, argv);
  assert.notEqual(out, argv);
});

test('a flag that only starts like a legacy one is not rewritten', () => {
  assert.deepEqual(translateLegacyArgs(['--watcher', 'x']), ['--watcher', 'x']);
  assert.deepEqual(translateLegacyArgs(['watch', '--single', 'F']), ['watch', '--single', 'F']);
});

test('arguments after -- are never taken for legacy flags', () => {
  assert.deepEqual(translateLegacyArgs(['watch', '--', '--watch']), ['watch', '--', '--watch']);
});

test('--add-config without a file checks the default file (it must not become `-c config`)', () => {
  assert.deepEqual(translateLegacyArgs(['--add-config']), ['config', '--check']);
  assert.deepEqual(translateLegacyArgs(['--add-config', '--json']), ['config', '--check', '--json']);
});
