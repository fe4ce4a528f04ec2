// What a running process costs, read from /proc (Linux): its RSS split into anonymous and
// file-backed pages, its CPU time, and the processes it keeps (its descendants, and the
// OpenSSH ControlMaster git's pushes share, which detaches from the daemon but lives for it).
// And the node options the systemd units start the daemon with, so a benchmark can run the
// daemon as production does.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './pacha.js';

export interface Rss {
  /** VmRSS, MiB. */
  total: number;
  /** RssAnon (heap, stacks, malloc), MiB. */
  anon: number;
  /** RssFile (the node binary's and libraries' pages it touched), MiB. */
  file: number;
  /**
   * Private_Clean + Private_Dirty of /proc/<pid>/smaps_rollup: the pages no other process
   * maps, what stopping it would give back (most of RssFile is the node binary's pages,
   * shared with every node process and the page cache), MiB.
   */
  private: number;
}

/** VmRSS, RssAnon and RssFile of /proc/<pid>/status, and its private pages (smaps_rollup). */
export function rssOf(pid: number): Rss {
  const kib = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const mib = (key: string) => kib(status, key) / 1024;
  return { total: mib('VmRSS'), anon: mib('RssAnon'), file: mib('RssFile'), private: (kib(rollup, 'Private_Clean') + kib(rollup, 'Private_Dirty')) / 1024 };
}

/** utime + stime of a process, in seconds (fields 14-15 of /proc/<pid>/stat; USER_HZ is 100 on Linux). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; fields after it are counted from its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return (fields[11]! + fields[12]!) / 100;
}

export interface KeptProcess {
  pid: number;
  command: string;
  rss: number;
}

function keptProcess(pid: number): KeptProcess | undefined {
  try {
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return { pid, command, rss: rssOf(pid).total };
  } catch {
    return undefined; // exited meanwhile
  }
}

/** Every live descendant of a process. */
export function descendantsOf(pid: number): KeptProcess[] {
  const found: KeptProcess[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const task of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.split(/\s+/).filter(Boolean).map(Number)) {
      const kept = keptProcess(child);
      if (kept) found.push(kept, ...descendantsOf(child));
    }
  }
  return found;
}

/** OpenSSH ControlMasters whose control socket lies under `stateDir` (their title is `ssh: <ControlPath> [mux]`). */
export function controlMastersUnder(stateDir: string): KeptProcess[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => keptProcess(Number(name)))
    .filter((p): p is KeptProcess => p !== undefined && p.command.startsWith(`ssh: ${stateDir}${path.sep}`) && p.command.endsWith('[mux]'));
}

/**
 * The node options both systemd units set (`Environment=NODE_OPTIONS=…` in
 * systemd/pacha-daemon.service), as node arguments: the daemon as production starts it.
 */
export function unitNodeArgs(): string[] {
  const unit = readFileSync(path.join(REPO_ROOT, 'systemd', 'pacha-daemon.service'), 'utf8');
  const value = /^Environment=NODE_OPTIONS=(.*)$/m.exec(unit)?.[1] ?? '';
  return value.split(/\s+/).filter(Boolean);
}
