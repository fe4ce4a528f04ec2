// `pacha daemon` (alias --daemon-foreground): watch, commit and push in the foreground, for
// systemd (Type=exec). SIGTERM stops it cleanly (exit 0), SIGHUP reloads the configuration.
import { runDaemon } from '../../daemon/daemon.js';
import { Context } from '../../context.js';

export async function daemonCommand(context: Context): Promise<number> {
  await runDaemon(await context.daemonOptions(async () => (await Context.create(context.options)).settings));
  return 0;
}
