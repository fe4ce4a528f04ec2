// `pacha status`: what is tracked, the last commit, what waits for the master, and whether
// the master has it. Works with the master down: status is what you read when things fail.
// What it says about the master comes from the last push this host made (refs/pacha/pushed:
// what the master acknowledged), read locally without a connection; --remote asks the master.
import { readBootReport, summarizeBoot } from '../../boot/report.js';
import { readDaemonState, stateDirHealth, type PathStatus } from '../../daemon/status.js';
import { isPachaError } from '../../errors.js';
import { repositoryDir } from '../../master/layout.js';
import { endpointLabel } from '../../master/endpoint-label.js'; // not ssh-connect.js: no SSH code loads
import { masterId, parseMasterList } from '../../config/master-list.js';
import { divergenceSteps } from '../../store/push.js';
import type { Context } from '../../context.js';

export async function statusCommand(context: Context, options: { remote?: boolean } = {}): Promise<number> {
  const store = await context.store();
  const tracked = await store.list();
  const host = context.hostName();
  let onMaster: Set<string> | undefined;
  let masterError: string | undefined;
  if (!options.remote) {
    onMaster = new Set();
    for (const item of tracked) if (store.pushedHead(item)) onMaster.add(item.name);
  } else if (tracked.length > 0) {
    try {
      const listing = await (await context.master()).describeHost(host);
      onMaster = new Set(listing?.repositories ?? []);
    } catch (error) {
      if (!isPachaError(error)) throw error;
      masterError = error.message;
    }
  }
  // Every master's acknowledged commit, from the local refs: no connection needed.
  const masters = tracked.length > 0 ? acknowledgingMasters(context) : [];
  const hostsPath = context.settings.require('pacha.hosts.path');
  const divergenceOf = (d: { ref: string; time: string } | undefined, item: { location: string; name: string }) =>
    d ? { ...d, steps: divergenceSteps({ masterDir: repositoryDir(hostsPath, host, item.name), ref: d.ref, location: item.location, name: item.name }) } : null;
  const daemon = await readDaemonState(context.stateDir);
  const daemonPaths: Record<string, PathStatus> = daemon.status?.paths ?? {};
  const paths = [];
  for (const item of tracked) {
    const seen = daemonPaths[item.location];
    // Recorded by whoever saw it (the daemon, pacha push, boot), in the path's git dir.
    const diverged = (await store.divergence(item)) ?? seen?.diverged;
    const last = await store.lastCommit(item);
    paths.push({
      location: item.location,
      name: item.name,
      single: item.single,
      lastCommit: last ?? null,
      unpushed: await store.unpushed(item),
      masters: await Promise.all(
        masters.map(async (m) => ({ master: m.label, acknowledged: store.pushedHead(item, m.id) ?? null, unpushed: await store.unpushed(item, m.id) })),
      ),
      onMaster: onMaster ? onMaster.has(item.name) : null,
      lastPush: seen?.lastPush ?? null,
      lastError: seen?.lastError ?? null,
      diverged: divergenceOf(diverged, item),
      watching: daemon.running ? (seen?.watching ?? null) : null,
      /** This path's own patterns (watch --ignore, forget); `ignoring`: every pattern that applies. */
      ignore: item.ignore ?? [],
      ignoring: store.ignorePatterns(item),
    });
  }
  context.out.say(`host ${host}, state ${context.stateDir}`);
  // The last `pacha boot` (<state>/boot.json): what recovered this host, or why it did not.
  const lastBoot = await readBootReport(context.stateDir);
  context.out.say(`last boot: ${lastBoot ? summarizeBoot(lastBoot) : 'none'}`);
  if (daemon.running && daemon.status) {
    context.out.say(`daemon: running, PID ${daemon.running}, up ${formatUptime(Date.now() - Date.parse(daemon.status.started))}`);
  } else {
    context.out.say(`daemon: not running${daemon.status?.stopped ? ` (last stopped ${daemon.status.stopped})` : ''}`);
  }
  const disk = await stateDirHealth(context.stateDir);
  if (disk.problem) context.out.say(`STATE DIR ${context.stateDir}: ${disk.problem}; commits wait until it can be written`);
  const storage = daemon.running ? daemon.status?.storage : undefined;
  if (storage) context.out.say(`daemon: ${storage.message} (since ${storage.since})`);
  if (masterError) context.out.say(`master: unreachable (${masterError})`);
  else if (!options.remote) context.out.say('master: as of the last push (`pacha status --remote` asks it)');
  if (paths.length === 0) context.out.say('nothing is tracked (pacha watch PATH starts tracking)');
  for (const p of paths) {
    const commit = p.lastCommit ? `${p.lastCommit.sha?.slice(0, 12)} ${p.lastCommit.time} ${p.lastCommit.subject}` : 'no commit yet';
    const master = p.onMaster === null ? '' : p.onMaster ? ', on the master' : ', NOT on the master';
    context.out.say(`${p.location} (${p.name}): ${commit}; ${p.unpushed} waiting${master}`);
    if (p.masters.length > 1) for (const m of p.masters) context.out.say(`  ${m.master}: ${m.acknowledged ? `has ${m.acknowledged.slice(0, 12)}` : 'has nothing yet'}${m.unpushed ? `, ${m.unpushed} waiting` : ''}`);
    if (p.lastPush) context.out.say(`  last push ${p.lastPush.time} (${p.lastPush.sha.slice(0, 12)})${p.watching ? `, ${p.watching}` : ''}`);
    if (p.lastError) context.out.say(`  last error ${p.lastError.time}: ${p.lastError.message}`);
    if (p.ignore.length) context.out.say(`  ignoring (this path): ${p.ignore.join(' ')}`);
    if (p.diverged) {
      context.out.say(`  DIVERGED since ${p.diverged.time}: the master's history is not an ancestor of this host's; nothing was forced, this host's history is on the master as ${p.diverged.ref}; commits wait here. To resolve:`);
      p.diverged.steps.forEach((line, i) => context.out.say(`    ${i + 1}. ${line}`));
    }
  }
  context.out.result({
    host,
    stateDir: context.stateDir,
    lastBoot: lastBoot ?? null,
    master: masterError ? { error: masterError } : options.remote ? { ok: true, source: 'remote' } : { source: 'last push' },
    daemon: { running: daemon.running !== undefined, pid: daemon.running ?? null, started: daemon.status?.started ?? null, storage: storage ?? null },
    stateDirHealth: disk,
    paths,
  });
  return 0;
}

/** The masters of pacha.host as their labels read, with the id their acknowledged ref is named by (nothing opened). */
function acknowledgingMasters(context: Context): Array<{ label: string; id: string | undefined }> {
  const { settings } = context;
  return parseMasterList(settings.get('pacha.host')).map((spec, index) => ({
    label:
      spec.kind === 'ssh'
        ? endpointLabel({ user: spec.user ?? settings.require('pacha.ssh.user'), host: spec.host, port: spec.port ?? settings.require('pacha.ssh.port') })
        : spec.entry,
    id: index === 0 ? undefined : masterId(spec.entry),
  }));
}

function formatUptime(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
