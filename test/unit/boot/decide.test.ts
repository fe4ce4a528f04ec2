import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideBoot, type DecideInput } from '../../../src/boot/decide.js';

const base: DecideInput = {
  host: 'bar',
  master: 'bar_user@master:22',
  tracked: [],
  onMaster: undefined,
  watch: [],
  forceRebuild: false,
  watchAfter: true,
};

describe('decideBoot', () => {
  test('no local state and the master has the host: rebuild, tracking on its history', () => {
    const d = decideBoot({ ...base, onMaster: ['foo', 'etc'] });
    assert.equal(d.action, 'rebuild');
    assert.match(d.reason, /no local state/);
    assert.match(d.plan[0]!, /rebuild bar from bar_user@master:22: foo, etc/);
    assert.match(d.plan[1]!, /same|history/);
    assert.deepEqual(d.track, []);
  });

  test('local state present (a reboot): resume, no rebuild, even though the master has the host', () => {
    const d = decideBoot({ ...base, tracked: ['/opt/foo'], onMaster: ['foo'] });
    assert.equal(d.action, 'resume');
    assert.match(d.reason, /reboot/);
    assert.ok(d.plan.every((line) => !/^rebuild/.test(line)));
    assert.match(d.plan[0]!, /push what changed while down: \/opt\/foo/);
  });

  test('the master lacks the host: a new host that tracks and pushes pacha.watch', () => {
    const d = decideBoot({ ...base, watch: ['/opt/foo', '/etc/app'] });
    assert.equal(d.action, 'new-host');
    assert.deepEqual(d.track, ['/opt/foo', '/etc/app']);
    assert.ok(d.plan.some((line) => line === 'track and push pacha.watch: /opt/foo, /etc/app'));
  });

  test('a new host with an empty pacha.watch says there is nothing to track', () => {
    const d = decideBoot(base);
    assert.equal(d.action, 'new-host');
    assert.deepEqual(d.track, []);
    assert.ok(d.plan.some((line) => /pacha.watch is empty/.test(line)));
  });

  test('--force-rebuild rebuilds whatever the local state', () => {
    const d = decideBoot({ ...base, tracked: ['/opt/foo'], onMaster: ['foo'], forceRebuild: true });
    assert.equal(d.action, 'rebuild');
    assert.match(d.reason, /--force-rebuild/);
  });

  test('--force-rebuild for a host the master lacks says the rebuild will fail', () => {
    const d = decideBoot({ ...base, forceRebuild: true });
    assert.equal(d.action, 'rebuild');
    assert.match(d.reason, /has no host 'bar'/);
  });

  test('pacha.watch paths already tracked are not tracked again; duplicates once', () => {
    const d = decideBoot({ ...base, tracked: ['/opt/foo'], watch: ['/opt/foo', '/srv/x', '/srv/x/'] });
    assert.deepEqual(d.track, ['/srv/x']);
  });

  test('the last line of the plan says whether the daemon follows', () => {
    assert.match(decideBoot({ ...base, onMaster: [] }).plan.at(-1)!, /watch every tracked path/);
    assert.match(decideBoot({ ...base, onMaster: [], watchAfter: false }).plan.at(-1)!, /--no-watch/);
  });

  test('a host on the master without repositories is rebuilt (its hooks run)', () => {
    const d = decideBoot({ ...base, onMaster: [] });
    assert.equal(d.action, 'rebuild');
    assert.match(d.plan[0]!, /hooks only/);
  });
});
