#!/usr/bin/env node
// `pacha serve HOST` alone: the gate's entry point, named in the forced command of an enrolled
// key (`<node> …/serve-main.js -c CONF serve HOST`). sshd starts it for every request a host
// makes (each push, each probe), so it loads only the gate and the config reader — not the
// command line parser nor any other command — and is ~100 ms quicker to start than main.js.
// It accepts exactly the words enrolment writes; anything else is refused like a bad request.
import { redactText } from '../config/redact.js';
import { isPachaError } from '../errors.js';
import { REFUSED_PREFIX, REFUSED_STATUS } from '../master/gate/protocol.js';
import { parseServeArgs, serveCommand } from './commands/serve.js';

async function main(): Promise<number> {
  const parsed = parseServeArgs(process.argv.slice(2));
  if (!parsed) {
    process.stderr.write(`${REFUSED_PREFIX}this entry point takes only \`[-c CONF] serve HOST\` (the forced command pacha add-host --key writes)\n`);
    return REFUSED_STATUS;
  }
  try {
    return await serveCommand(parsed.config ? { config: parsed.config } : {}, parsed.host);
  } catch (error) {
    const message = isPachaError(error) ? `${error.message}${error.hint ? `\n  ${error.hint}` : ''}` : String((error as Error)?.stack ?? error);
    process.stderr.write(redactText(`pacha: error: ${message}\n`));
    return isPachaError(error) ? error.exitCode : 1;
  }
}

process.exitCode = await main();
