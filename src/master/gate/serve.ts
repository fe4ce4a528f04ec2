// `pacha serve HOST`: the forced command sshd runs for a key enrolled for HOST. It decides
// (decide.ts), checks the disk (no symlink anywhere between hosts_path and what it serves),
// then acts: a verb answered as JSON, or git-upload-pack / git-receive-pack run by argv with
// its stdio handed over. No shell runs. umask 077: everything it creates is private.
import type { HookPhase } from '../../hooks/types.js';
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { appendFile, lstat, open } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, isPachaError } from '../../errors.js';
import { hooksDir, hostDir, repositoryDir, sortNames, typeFromMode } from '../layout.js';
import { LocalMaster, localFs } from '../local-master.js';
import { minimalEnv } from '../../child-env.js';
import { serveSession } from './session.js';
import { decideRequest, shown, type GateIdentity, type GateRequest } from './decide.js';
import { GATE_VERSION, MAX_HOOK_BYTES, REFUSED_PREFIX, REFUSED_STATUS, type Hello, type WireHook } from './protocol.js';

export interface ServeOptions extends GateIdentity {
  /** SSH_ORIGINAL_COMMAND (undefined: an interactive session). */
  command: string | undefined;
  /** pacha.serve.log: a file to append one line per request to; else syslog through logger(1). */
  logFile?: string | undefined;
  /** The client's address (SSH_CONNECTION), for the log. */
  peer?: string | undefined;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** How git's pack program is run once a repository passed every check (default: git by argv, stdio handed over). */
  runGit?: (verb: 'upload-pack' | 'receive-pack', repo: string) => Promise<number>;
}

/** Refused by the disk rather than by the words: a symlink, a missing repository. */
class Refusal extends Error {}

/** lstat that must find a real directory (never a symlink): the gate's only way down the tree. */
async function realDirectory(dir: string, what: string, optional = false): Promise<boolean> {
  let stats;
  try {
    stats = await lstat(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' && optional) return false;
    if (errnoCode(error) === 'ENOENT') throw new Refusal(`${what} ${dir} does not exist`);
    throw error;
  }
  if (stats.isSymbolicLink()) throw new Refusal(`${what} ${dir} is a symlink; the gate never follows one`);
  if (!stats.isDirectory()) throw new Refusal(`${what} ${dir} is not a directory`);
  return true;
}

async function hostPresent(identity: GateIdentity): Promise<boolean> {
  return realDirectory(hostDir(identity.hostsPath, identity.host), 'host directory', true);
}

async function checkRepository(identity: GateIdentity, name: string): Promise<string> {
  if (!(await hostPresent(identity))) throw new Refusal(`host '${identity.host}' has no directory on this master`);
  const repo = repositoryDir(identity.hostsPath, identity.host, name);
  await realDirectory(repo, 'repository');
  await realDirectory(path.join(repo, '.git'), 'git directory');
  return repo;
}

/** A hook directory as JSON: regular files with their content (read without following a symlink), the rest by type. */
async function wireHooks(identity: GateIdentity, phase: HookPhase): Promise<WireHook[]> {
  if (!(await hostPresent(identity))) return [];
  const dir = hooksDir(identity.hostsPath, identity.host, phase);
  if (!(await realDirectory(dir, 'hook directory', true))) return [];
  const entries = (await localFs.list(dir)) ?? [];
  const byName = new Map(entries.map((e) => [e.name, e]));
  const hooks: WireHook[] = [];
  for (const name of sortNames(byName.keys())) {
    const entry = byName.get(name)!;
    const hook: WireHook = { name, mode: entry.mode & 0o7777, type: typeFromMode(entry.mode) };
    if (hook.type === 'file') {
      const handle = await open(path.join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const { size } = await handle.stat();
        if (size > MAX_HOOK_BYTES) throw new Refusal(`hook ${phase}/${name} is larger than ${MAX_HOOK_BYTES} bytes`);
        hook.data = (await handle.readFile()).toString('base64');
      } finally {
        await handle.close();
      }
    }
    hooks.push(hook);
  }
  return hooks;
}

/** git's pack programs for one repository, by argv; resolves with git's exit status. */
function runGit(verb: 'upload-pack' | 'receive-pack', repo: string): Promise<number> {
  const env: Record<string, string> = { ...minimalEnv() };
  // Protocol v2 is asked for through GIT_PROTOCOL (when sshd accepts it); only its plain form passes.
  const protocol = process.env.GIT_PROTOCOL;
  if (protocol && /^version=[0-9]$/.test(protocol)) env.GIT_PROTOCOL = protocol;
  return new Promise((resolve) => {
    const child = spawn('git', [verb, repo], { env, cwd: repo, stdio: 'inherit' });
    child.once('error', () => resolve(127));
    child.once('close', (code) => resolve(code ?? 1));
  });
}

async function act(options: ServeOptions, request: GateRequest, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const identity: GateIdentity = options;
  const master = new LocalMaster(identity.hostsPath);
  const reply = (value: unknown): number => {
    out.write(`${JSON.stringify(value)}\n`);
    return 0;
  };
  switch (request.verb) {
    case 'hello':
      return reply({ gate: GATE_VERSION, host: identity.host, hostsPath: identity.hostsPath } satisfies Hello);
    case 'hosts':
      return reply({ hosts: (await hostPresent(identity)) ? [identity.host] : [] });
    case 'describe':
      return reply({ listing: (await hostPresent(identity)) ? ((await master.describeHost(identity.host)) ?? null) : null });
    case 'add-host':
      await hostPresent(identity);
      return reply({ outcome: await master.addHost(identity.host) });
    case 'ensure-repository':
      await hostPresent(identity);
      await realDirectory(repositoryDir(identity.hostsPath, identity.host, request.name), 'repository', true);
      return reply({ outcome: await master.ensureRepository(identity.host, request.name) });
    case 'hooks':
      return reply({ hooks: await wireHooks(identity, request.phase) });
    case 'session':
      return serveSession({
        stdin: options.stdin ?? process.stdin,
        stdout: out,
        stderr: err,
        repository: (name) => checkRepository(identity, name),
        log: (outcome) => log(options, outcome),
      });
    case 'upload-pack':
    case 'receive-pack':
      return (options.runGit ?? runGit)(request.verb, await checkRepository(identity, request.name));
  }
}

/** One log line per request: to pacha.serve.log, else to syslog (auth) through logger(1), never through a shell. */
async function log(options: ServeOptions, outcome: string): Promise<void> {
  const line = `pacha serve ${options.host}: ${outcome} (command ${options.command === undefined ? 'none' : shown(options.command)}${options.peer ? `, from ${options.peer.split(' ')[0]}` : ''})`;
  if (options.logFile) {
    await appendFile(options.logFile, `${new Date().toISOString()} ${line}\n`, { mode: 0o600 }).catch(() => undefined);
    return;
  }
  await new Promise<void>((resolve) => {
    const child = spawn('logger', ['-t', 'pacha-serve', '-p', 'auth.notice', '--', line], { stdio: 'ignore', env: minimalEnv() });
    child.once('error', () => resolve());
    child.once('close', () => resolve());
  });
}

/** Serve one request; resolves with the exit status for sshd to hand back. */
export async function serve(options: ServeOptions): Promise<number> {
  process.umask(0o077);
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const refused = async (reason: string): Promise<number> => {
    stderr.write(`${REFUSED_PREFIX}${reason}\n`);
    await log(options, `refused: ${reason}`);
    return REFUSED_STATUS;
  };
  const decision = decideRequest(options.command, options);
  if (!decision.allowed) return refused(decision.reason);
  try {
    const status = await act(options, decision.request, stdout, stderr);
    await log(options, `${decision.request.verb} exit ${status}`);
    return status;
  } catch (error) {
    if (error instanceof Refusal) return refused(error.message);
    const message = isPachaError(error) ? error.message : `${(error as Error).message ?? String(error)}`;
    stderr.write(`pacha serve: error: ${message}\n`);
    await log(options, `failed: ${message}`);
    return 1;
  }
}
