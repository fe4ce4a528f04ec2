// The client's side of the gate: each Master operation is one `pacha-gate VERB …` command
// over SSH, answered as JSON. A hostile or broken master can answer anything: every answer is
// checked (shape, names, types) before it is used, exactly as a listing over SFTP is.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MasterError } from '../../errors.js';
import { checkComponent, hostListing, hostNames, isCopiedHook, unsafeComponentReason, type HookPhase } from '../layout.js';
import type { MasterOperations } from '../layout-operations.js';
import type { HookFile, HostListing } from '../master.js';
import { remoteCommandFailed } from '../master-errors.js';
import type { ShellResult } from '../ssh-fs.js';
import { gateCommand, refusalIn, MAX_HOOK_BYTES, type GateVerb, type Hello, type WireHook } from './protocol.js';

export type Exec = (command: string) => Promise<ShellResult>;

const HOOK_TYPES: ReadonlySet<string> = new Set(['file', 'directory', 'symlink', 'other']);

export function gateRefused(label: string, reason: string, enrolledFor: string): MasterError {
  return new MasterError(`${label} refused: ${reason}`, {
    code: 'EGATE',
    hint:
      `on this master, the key pacha uses is enrolled for host '${enrolledFor}' and reaches only its directory. ` +
      'Check pacha.hostname, or enrol this host\'s key on the master: pacha add-host HOST --key FILE',
  });
}

function badAnswer(label: string, verb: string, why: string): MasterError {
  return new MasterError(`${label}: the gate's answer to ${verb} is not valid (${why})`, {
    code: 'EGATEANSWER',
    hint: 'check that the master runs the same pacha version as this host',
  });
}

export class GateClient implements MasterOperations {
  constructor(
    private readonly exec: Exec,
    readonly label: string,
    readonly hostsPath: string,
    private readonly hello: Hello,
  ) {}

  private async call(verb: GateVerb, ...args: string[]): Promise<Record<string, unknown>> {
    const result = await this.exec(gateCommand(verb, ...args));
    if (result.status !== 0) {
      const reason = refusalIn(result.stderr);
      if (reason) throw gateRefused(this.label, reason, this.hello.host);
      throw remoteCommandFailed(this.label, `pacha-gate ${verb}`, result.status, result.stderr);
    }
    try {
      const value: unknown = JSON.parse(result.stdout);
      if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // fall through
    }
    throw badAnswer(this.label, verb, 'not a JSON object');
  }

  async listHosts(): Promise<string[]> {
    const { hosts } = await this.call('hosts');
    if (!Array.isArray(hosts) || !hosts.every((h) => typeof h === 'string')) throw badAnswer(this.label, 'hosts', 'hosts is not a list of names');
    return hostNames(hosts.map((name) => ({ name, type: 'directory' as const })));
  }

  async describeHost(host: string): Promise<HostListing | undefined> {
    const { listing } = await this.call('describe', checkComponent('host', host));
    if (listing === null) return undefined;
    const l = listing as Partial<HostListing> | undefined;
    if (!l || !Array.isArray(l.repositories) || !l.repositories.every((r) => typeof r === 'string')) {
      throw badAnswer(this.label, 'describe', 'no list of repositories');
    }
    // Rebuilt from names, so the same rules pick repositories as over SFTP.
    const entries = [
      ...l.repositories.map((name) => ({ name, type: 'directory' as const, hasGit: true })),
      ...(l.hasPreHooks === true ? [{ name: 'pacha_pre', type: 'directory' as const }] : []),
      ...(l.hasPostHooks === true ? [{ name: 'pacha_post', type: 'directory' as const }] : []),
    ];
    return hostListing(host, entries.filter((e) => checkSafe(e.name)));
  }

  async addHost(host: string): Promise<'created' | 'exists'> {
    return outcome(this.label, 'add-host', (await this.call('add-host', checkComponent('host', host))).outcome);
  }

  async ensureRepository(host: string, name: string): Promise<'created' | 'exists'> {
    const answer = await this.call('ensure-repository', checkComponent('host', host), checkComponent('repository', name));
    return outcome(this.label, 'ensure-repository', answer.outcome);
  }

  async fetchHooks(host: string, phase: HookPhase, localDir: string): Promise<HookFile[]> {
    const { hooks } = await this.call('hooks', checkComponent('host', host), phase);
    if (!Array.isArray(hooks)) throw badAnswer(this.label, 'hooks', 'hooks is not a list');
    const files: HookFile[] = [];
    for (const raw of hooks as WireHook[]) {
      if (!raw || typeof raw.name !== 'string' || !checkSafe(raw.name) || !HOOK_TYPES.has(raw.type) || !Number.isInteger(raw.mode)) {
        throw badAnswer(this.label, 'hooks', `entry ${JSON.stringify(raw?.name)}`);
      }
      const hook: HookFile = { name: raw.name, mode: raw.mode & 0o7777, type: raw.type };
      if (isCopiedHook(hook)) {
        const data = Buffer.from(typeof raw.data === 'string' ? raw.data : '', 'base64');
        if (data.length > MAX_HOOK_BYTES) throw badAnswer(this.label, 'hooks', `${raw.name} is too large`);
        await mkdir(localDir, { recursive: true, mode: 0o700 });
        hook.localPath = path.join(localDir, raw.name);
        await writeFile(hook.localPath, data, { flag: 'wx', mode: 0o600 });
        await chmod(hook.localPath, hook.mode);
      }
      files.push(hook);
    }
    return files;
  }
}

/** A name a hostile master could send is used only when it is one plain path component, not hidden. */
function checkSafe(name: string): boolean {
  return unsafeComponentReason(name) === undefined && !name.startsWith('.');
}

function outcome(label: string, verb: string, value: unknown): 'created' | 'exists' {
  if (value === 'created' || value === 'exists') return value;
  throw badAnswer(label, verb, `outcome ${JSON.stringify(value)}`);
}
