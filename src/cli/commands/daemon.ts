// `pacha daemon` (alias --daemon-foreground): watch, commit and push in the foreground, for
// systemd (Type=exec). SIGTERM stops it cleanly (exit 0), SIGHUP reloads the configuration.
import { runDaemon } from '../../daemon/daemon.js';
import { Context } from '../../context.js';

export async function daemonCommand(context: Context): Promise<number> {
  await runDaemon({
    settings: context.settings,
    store: await context.store(),
    master: await context.master(),
    otherMasters: await context.otherMasters(),
    log: (level, message) => context.out.log(level, message),
    reload: async () => (await Context.create(context.options)).settings,
  });
  return 0;
}
