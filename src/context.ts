// What every command starts from: merged settings, output, the state dir, this host's name,
// and (opened only when a command needs them) the local store and the master.
import os from 'node:os';
import path from 'node:path';
import { loadSettings, requireMasterSettings } from './config/load.js';
import type { KeyName } from './config/keys.js';
import type { Settings } from './config/settings.js';
import { chooseIdentity } from './identity.js';
import type { DaemonOptions } from './daemon/daemon.js';
import type { Master } from './master/master.js';
import type { Store } from './store/store.js';
import { Output } from './log.js';

export interface GlobalOptions {
  config?: string;
  state?: string;
  root?: string;
  verbose?: boolean;
  json?: boolean;
}

export class Context {
  private masterPromise: Promise<Master> | undefined;
  private othersPromise: Promise<Array<{ id: string; master: Master }>> | undefined;
  private storePromise: Promise<Store> | undefined;

  constructor(
    readonly settings: Settings,
    readonly out: Output,
    readonly options: GlobalOptions,
  ) {}

  static async create(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Promise<Context> {
    const out = new Output(Boolean(options.json));
    const flags: Partial<Record<KeyName, { raw: string; flag: string }>> = {};
    if (options.state) flags['pacha.state.path'] = { raw: path.resolve(options.state), flag: '--state' };
    const settings = await loadSettings({ ...(options.config ? { configPath: options.config } : {}), env, flags });
    return Context.fromSettings(settings, options, out);
  }

  /** A Context over settings gathered elsewhere (`pacha boot`: user data, SSM, instance metadata). */
  static fromSettings(settings: Settings, options: GlobalOptions, out = new Output(Boolean(options.json))): Context {
    out.level = options.verbose ? 'debug' : (settings.get('pacha.log.level') ?? 'info');
    for (const notice of settings.notices) {
      if (notice.level === 'warn') out.warn(notice.message);
      else out.debug(notice.message);
    }
    return new Context(settings, out, options);
  }

  /** Rebuild prefix: '/' normally, or --root DIR (a mounted image, a test). */
  get root(): string {
    return this.options.root ? path.resolve(this.options.root) : '/';
  }

  get stateDir(): string {
    return this.settings.require('pacha.state.path');
  }

  /** This host's name on the master: pacha.hostname, else the system host name (identity.ts's rule). */
  hostName(): string {
    const configured = this.settings.get('pacha.hostname');
    const setting = configured ? { hostname: configured, origin: this.settings.origin('pacha.hostname') } : undefined;
    return chooseIdentity({ setting, system: os.hostname() }, { hint: 'set pacha.hostname in the config file or PACHA_HOSTNAME' }).name;
  }

  store(): Promise<Store> {
    this.storePromise ??= Promise.all([import('./store/store.js'), import('./store/ignore.js')]).then(async ([{ Store }, { ignoreSettingsFrom }]) => {
      const store = await Store.open(this.stateDir, this.hostName(), ignoreSettingsFrom(this.settings));
      store.lockOptions = { onWait: (pid) => this.out.info(`waiting for PID ${pid} (the daemon?) to finish committing or pushing`) };
      return store;
    });
    return this.storePromise;
  }

  master(): Promise<Master> {
    if (!this.masterPromise) {
      requireMasterSettings(this.settings);
      this.masterPromise = import('./master/open.js').then(({ openMaster }) => openMaster(this.settings, this.stateDir));
    }
    return this.masterPromise;
  }

  /** The masters after the first of pacha.host (each gets every commit); [] with one master. */
  otherMasters(): Promise<Array<{ id: string; master: Master }>> {
    this.othersPromise ??= import('./master/open.js').then(({ openOtherMasters }) => openOtherMasters(this.settings, this.stateDir));
    return this.othersPromise;
  }

  /** What the daemon runs on: these settings, the store, every master and this output's log; `reload` answers SIGHUP. */
  async daemonOptions(reload: () => Promise<Settings>): Promise<DaemonOptions> {
    return {
      settings: this.settings,
      store: await this.store(),
      master: await this.master(),
      otherMasters: await this.otherMasters(),
      log: (level, message) => this.out.log(level, message),
      reload,
    };
  }

  async close(): Promise<void> {
    if (this.othersPromise) for (const { master } of (await this.othersPromise.catch(() => [])) ?? []) await master.close().catch(() => undefined);
    if (this.masterPromise) await (await this.masterPromise.catch(() => undefined))?.close();
  }
}
