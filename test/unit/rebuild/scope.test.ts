import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWithin, outsideTrackedReason, scopeRepositories } from '../../../src/rebuild/scope.js';

test('isWithin: the path itself and what lies below it, never a sibling that shares a prefix', () => {
  assert.ok(isWithin('/etc', '/etc'));
  assert.ok(isWithin('/etc/nginx', '/etc'));
  assert.ok(isWithin('/etc/nginx', '/'));
  assert.equal(isWithin('/etcetera', '/etc'), false);
  assert.equal(isWithin('/root/.ssh', '/etc'), false);
});

test('outsideTrackedReason: no pacha.watch means no limit; outside it names the location and the tracked paths', () => {
  assert.equal(outsideTrackedReason('/root/.ssh', []), undefined);
  assert.equal(outsideTrackedReason('/etc/nginx', ['/etc', '/opt/foo']), undefined);
  assert.match(outsideTrackedReason('/root/.ssh', ['/etc', '/opt/foo']) ?? '', /\/root\/\.ssh, outside what this host tracks \(pacha\.watch = \/etc, \/opt\/foo\)/);
});

test('scopeRepositories keeps the order and splits restore from not restored', () => {
  const repos = [
    { name: 'foo', metadata: { location: '/opt/foo' } },
    { name: 'ssh', metadata: { location: '/root/.ssh' } },
    { name: 'etc', metadata: { location: '/etc' } },
  ];
  const { restore, notRestored } = scopeRepositories(repos, ['/opt/foo', '/etc']);
  assert.deepEqual(restore.map((r) => r.name), ['foo', 'etc']);
  assert.deepEqual(notRestored.map((r) => [r.name, r.location]), [['ssh', '/root/.ssh']]);
});
