// The pure parts of the fleet view: each host's state from its refs and the time, the order
// rows are listed in, the timeline, the exit code; the wire format; the textfile; the page's
// escaping; the heartbeat's schedule; and the trailers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeHtml, fleetHtml } from '../../../src/fleet/html.js';
import { escapeLabelValue, prometheusText } from '../../../src/fleet/prometheus.js';
import { countStates, DAY_MS, fleetExitCode, fleetRows, hostRow, timeline } from '../../../src/fleet/state.js';
import { fleetScript, parseFleetOutput, type HostRefs, type RepoRefs } from '../../../src/fleet/wire.js';
import { shellQuote } from '../../../src/master/shell-quote.js';
import { heartbeatDue, heartbeatMessage } from '../../../src/store/heartbeat.js';
import { describeProvenance, formatTrailers, invokingUser, parseTrailers, withTrailers } from '../../../src/store/provenance.js';
import { parseExposition } from './prometheus-parse.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const s = (msAgo: number) => Math.floor((NOW - msAgo) / 1000);
const HOUR = 3600_000;
const STALE = 24 * HOUR;

function repo(name: string, options: { main?: number; beat?: number; diverged?: string[]; times?: number[] } = {}): RepoRefs {
  return {
    name,
    ...(options.main !== undefined ? { main: { ref: 'refs/heads/main', time: s(options.main), by: { instance: 'i-main', boot: 'b-main', origin: 'daemon' } } } : {}),
    ...(options.beat !== undefined ? { heartbeat: { ref: 'refs/pacha/heartbeat', time: s(options.beat), by: { instance: 'i-beat', boot: 'b-beat', origin: 'daemon' } } } : {}),
    diverged: (options.diverged ?? []).map((ref) => ({ ref, time: s(HOUR) })),
    times: (options.times ?? []).map(s),
  };
}
const host = (name: string, repos: RepoRefs[]): HostRefs => ({ host: name, repos });

test('states: empty, never-pushed, diverged, stale (old heartbeat or none), ok; an idle host that beats is ok', () => {
  const state = (h: HostRefs) => hostRow(h, NOW, STALE).state;
  assert.equal(state(host('a', [])), 'empty');
  assert.equal(state(host('a', [repo('etc')])), 'never-pushed');
  assert.equal(state(host('a', [repo('etc', { main: HOUR })])), 'stale');
  assert.equal(state(host('a', [repo('etc', { main: HOUR, beat: 25 * HOUR })])), 'stale');
  assert.equal(state(host('a', [repo('etc', { main: 40 * DAY_MS, beat: HOUR })])), 'ok');
  // The newest heartbeat of any repository counts (an untracked path's repository keeps an old one).
  assert.equal(state(host('a', [repo('old', { main: 40 * DAY_MS, beat: 30 * DAY_MS }), repo('etc', { main: HOUR, beat: HOUR })])), 'ok');
  // Diverged wins over stale, and both reasons are given.
  const row = hostRow(host('a', [repo('etc', { main: HOUR, diverged: ['refs/pacha/diverged/a/x'] })]), NOW, STALE);
  assert.equal(row.state, 'diverged');
  assert.equal(row.reasons.length, 2);
  assert.match(row.reasons[0]!, /^etc: diverged \(1 saved history, newest refs\/pacha\/diverged\/a\/x\)$/);
  assert.match(row.reasons[1]!, /no heartbeat ever/);
  // A pushed commit does not make a host without heartbeats alive: only the heartbeat counts.
  assert.equal(state(host('a', [repo('etc', { main: 0 })])), 'stale');
});

test("a row: the newest push and heartbeat, the heartbeat's instance and boot, commits in 24 h per path and in all", () => {
  const row = hostRow(
    host('a', [repo('etc', { main: 2 * HOUR, beat: 3 * HOUR, times: [2 * HOUR, 30 * HOUR] }), repo('app', { main: HOUR, beat: HOUR / 2, times: [HOUR, 5 * HOUR, 40 * DAY_MS] })]),
    NOW,
    STALE,
  );
  assert.equal(row.lastPush, new Date(s(HOUR) * 1000).toISOString());
  assert.equal(row.heartbeat, new Date(s(HOUR / 2) * 1000).toISOString());
  assert.equal(row.instance, 'i-beat');
  assert.equal(row.boot, 'b-beat');
  assert.deepEqual(row.paths.map((p) => [p.name, p.commits24h]), [['etc', 1], ['app', 2]]);
  assert.equal(row.commits24h, 3);
  assert.equal(row.timeline.reduce((a, b) => a + b, 0), 4, 'the 40-day-old commit is outside the timeline');
  // Without any heartbeat, the newest commit's instance and boot.
  assert.equal(hostRow(host('b', [repo('etc', { main: HOUR })]), NOW, STALE).instance, 'i-main');
});

test('timeline: 30 days, oldest first, the last 24 hours last; a clock ahead counts as today', () => {
  const days = timeline([s(HOUR), s(HOUR * 2), s(DAY_MS + HOUR), s(29 * DAY_MS + HOUR), s(31 * DAY_MS), s(-HOUR)], NOW);
  assert.equal(days.length, 30);
  assert.equal(days[29], 3);
  assert.equal(days[28], 1);
  assert.equal(days[0], 1);
  assert.equal(days.reduce((a, b) => a + b, 0), 5);
});

test('order: diverged, stale (never beat, then oldest beat), never-pushed, empty, ok; exit 0 only when all are ok', () => {
  const snapshot = {
    masterTime: NOW / 1000,
    hosts: [
      host('ok-b', [repo('etc', { main: HOUR, beat: HOUR })]),
      host('ok-a', [repo('etc', { main: HOUR, beat: HOUR })]),
      host('empty', []),
      host('stale-2d', [repo('etc', { main: HOUR, beat: 48 * HOUR })]),
      host('never', [repo('etc')]),
      host('stale-none', [repo('etc', { main: HOUR })]),
      host('stale-9d', [repo('etc', { main: HOUR, beat: 9 * DAY_MS })]),
      host('div', [repo('etc', { main: HOUR, beat: HOUR, diverged: ['refs/pacha/diverged/div/x'] })]),
    ],
  };
  const rows = fleetRows(snapshot, NOW, STALE);
  assert.deepEqual(rows.map((r) => r.host), ['div', 'stale-none', 'stale-9d', 'stale-2d', 'never', 'empty', 'ok-a', 'ok-b']);
  assert.deepEqual(countStates(rows), { diverged: 1, stale: 3, 'never-pushed': 1, empty: 1, ok: 2 });
  assert.equal(fleetExitCode(rows), 1);
  assert.equal(fleetExitCode(rows.filter((r) => r.state === 'ok')), 0);
  assert.equal(fleetExitCode([]), 0);
});

test('wire: the script is valid sh; its output is parsed, names checked, trailers kept; a cut-off answer is refused', async () => {
  const script = fleetScript("/srv/it's hosts", 1700000000, shellQuote);
  assert.match(script, /hosts='\/srv\/it'\\''s hosts'/);
  const { execFileSync } = await import('node:child_process');
  execFileSync('sh', ['-n', '-c', script]);
  const output = [
    'pacha-fleet\t1\t1764504000',
    'host\talpha',
    'repo\talpha\tetc',
    'ref\trefs/heads/main\t1764500000',
    'Pacha-Instance: i-1',
    'Pacha-Boot: b-1',
    'Pacha-Origin: push',
    'Pacha-User: alice',
    'Signed-off-by: someone',
    '',
    'ref\trefs/pacha/diverged/alpha/2026\t1764400000',
    'Pacha-Instance: i-old',
    '',
    'ref\trefs/pacha/heartbeat\t1764503000',
    'Pacha-Instance: i-2',
    '',
    'times 1764500000 1764490000',
    'repo\talpha\t..',
    'host\tbad/name',
    'repo\tbad/name\tetc',
    'host\tbravo',
    'end',
  ].join('\n');
  const snapshot = parseFleetOutput(output)!;
  assert.equal(snapshot.masterTime, 1764504000);
  assert.deepEqual(snapshot.hosts.map((h) => h.host), ['alpha', 'bravo']);
  const etc = snapshot.hosts[0]!.repos[0]!;
  assert.equal(snapshot.hosts[0]!.repos.length, 1, "'..' is no repository name");
  assert.deepEqual(etc.main, { ref: 'refs/heads/main', time: 1764500000, by: { instance: 'i-1', boot: 'b-1', origin: 'push', user: 'alice' } });
  assert.deepEqual(etc.heartbeat, { ref: 'refs/pacha/heartbeat', time: 1764503000, by: { instance: 'i-2' } });
  assert.deepEqual(etc.diverged, [{ ref: 'refs/pacha/diverged/alpha/2026', time: 1764400000 }]);
  assert.deepEqual(etc.times, [1764500000, 1764490000]);
  assert.equal(parseFleetOutput(output.replace('\nend', '')), undefined);
  assert.equal(parseFleetOutput('pacha-fleet\t2\t0\nend'), undefined);
  assert.equal(parseFleetOutput('bash: sh: not found'), undefined);
});

test('prometheus: label values escaped, families typed, parses by the text format rules', () => {
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  const rows = fleetRows({ masterTime: 0, hosts: [host('ok', [repo('etc', { main: HOUR, beat: HOUR })]), host('empty', [])] }, NOW, STALE);
  const text = prometheusText(rows, NOW);
  const parsed = parseExposition(text);
  assert.deepEqual(
    parsed.samples.filter((x) => x.name === 'pacha_host_last_push_timestamp_seconds'),
    [{ name: 'pacha_host_last_push_timestamp_seconds', labels: { host: 'ok' }, value: s(HOUR) }],
  );
  assert.equal(parsed.samples.filter((x) => x.name === 'pacha_host_state' && x.value === 1).length, 2);
  assert.match(text, /^pacha_host_state\{host="empty",state="empty"\} 1$/m);
  assert.throws(() => parseExposition('x{a="b} 1\n'), /unterminated/);
  assert.throws(() => parseExposition('x 1\ny 1\nx 2\n'), /split/);
});

test('html: every text escaped; no external resource', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  const rows = fleetRows({ masterTime: 0, hosts: [host('a', [repo('etc', { main: HOUR, diverged: ['refs/pacha/diverged/a/<script>'] })])] }, NOW, STALE);
  const html = fleetHtml(rows, { master: 'm<1>', nowMs: NOW, counts: countStates(rows) });
  assert.doesNotMatch(html, /<script>'/);
  assert.match(html, /diverged\/a\/&lt;script&gt;/);
  assert.match(html, /m&lt;1&gt;/);
  assert.doesNotMatch(html, /(src|href)=/);
});

test('heartbeat schedule: at most once an interval, at once after a reboot or on another instance, and when the clock went back', () => {
  const facts = { instance: 'i-1', boot: 'b-1' };
  const at = (msAgo: number, f = facts) => ({ time: new Date(NOW - msAgo), ...f });
  const now = new Date(NOW);
  assert.equal(heartbeatDue(undefined, now, facts, HOUR), true);
  assert.equal(heartbeatDue(at(HOUR / 2), now, facts, HOUR), false);
  assert.equal(heartbeatDue(at(HOUR), now, facts, HOUR), true);
  assert.equal(heartbeatDue(at(60_000, { instance: 'i-1', boot: 'b-0' }), now, facts, HOUR), true);
  assert.equal(heartbeatDue(at(60_000, { instance: 'i-0', boot: 'b-1' }), now, facts, HOUR), true);
  assert.equal(heartbeatDue(at(-60_000), now, facts, HOUR), true);
  assert.deepEqual(parseTrailers(heartbeatMessage('alpha', facts)), { instance: 'i-1', boot: 'b-1', origin: 'daemon' });
});

test('trailers: formatted in a fixed order, one line each, parsed back; unknown origins ignored; the invoking user', () => {
  const message = withTrailers('subject\n\nbody\n', { user: 'al\nice: x', origin: 'rollback', boot: 'b', instance: 'i' });
  assert.equal(message, 'subject\n\nbody\n\nPacha-Instance: i\nPacha-Boot: b\nPacha-Origin: rollback\nPacha-User: al ice: x\n');
  assert.deepEqual(parseTrailers(message), { instance: 'i', boot: 'b', origin: 'rollback', user: 'al ice: x' });
  assert.deepEqual(parseTrailers('s\n\nPacha-Origin: elsewhere'), {});
  assert.deepEqual(formatTrailers({}), []);
  assert.equal(withTrailers('s', {}), 's');
  assert.equal(describeProvenance({ origin: 'push', boot: '0123456789', user: 'bob' }), 'push, boot 01234567, user bob');
  assert.equal(invokingUser({ SUDO_USER: 'alice', USER: 'root' }, () => 'root'), 'alice');
  assert.equal(invokingUser({ LOGNAME: 'bob' }, () => 'root'), 'bob');
  assert.equal(invokingUser({}, () => 'carol'), 'carol');
});

test('wire, for real: the script reads a hosts path; a repository git refuses (another owner) is named, not silently empty', { skip: process.getuid?.() !== 0 && 'needs root to chown' }, async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdirSync, mkdtempSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const hosts = mkdtempSync(path.join(os.tmpdir(), 'pacha-fleet-wire-'));
  try {
    for (const name of ['mine', 'theirs']) {
      const repo = path.join(hosts, 'alpha', name);
      mkdirSync(repo, { recursive: true });
      execFileSync('git', ['init', '-q', '-b', 'main', repo]);
      execFileSync('git', ['-C', repo, '-c', 'user.name=p', '-c', 'user.email=p@h', 'commit', '-q', '--allow-empty', '-m', 's\n\nPacha-Origin: push']);
    }
    mkdirSync(path.join(hosts, 'alpha', 'pacha_pre'));
    mkdirSync(path.join(hosts, 'empty'));
    execFileSync('chown', ['-R', '65534', path.join(hosts, 'alpha', 'theirs')]);
    const output = execFileSync('sh', ['-c', fleetScript(hosts, Math.floor(Date.now() / 1000) - 86400, shellQuote)], { env: { PATH: process.env.PATH!, HOME: hosts } }).toString();
    const snapshot = parseFleetOutput(output)!;
    assert.deepEqual(snapshot.hosts.map((h) => [h.host, h.repos.map((r) => r.name)]), [['alpha', ['mine', 'theirs']], ['empty', []]]);
    const [mine, theirs] = snapshot.hosts[0]!.repos;
    assert.equal(mine!.main?.by.origin, 'push');
    assert.equal(mine!.times.length, 1);
    assert.equal(theirs!.unreadable, true);
    const row = hostRow(snapshot.hosts[0]!, Date.now(), STALE);
    assert.match(row.reasons[0]!, /^theirs: git could not read this repository on the master \(another owner\?/);
  } finally {
    rmSync(hosts, { recursive: true, force: true });
  }
});
