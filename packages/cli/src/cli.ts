/** The `acereason` command: dispatch to lazily loaded commands. */
import { commands } from './registry.js';
import { UsageError, type CommandContext } from './command.js';
import { cliVersion } from './version.js';

function help(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    `acereason ${cliVersion()}: staged RL for reasoning models (math then code, verifiable rewards, on-policy GRPO)`,
    '',
    'usage: acereason <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'Run `acereason <command> --help` for a command\'s options.',
  ].join('\n');
}

export async function main(argv: string[], ctx: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    ctx.stdout.write(help() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    ctx.stdout.write(cliVersion() + '\n');
    return 0;
  }
  const entry = commands[name];
  if (!entry) {
    ctx.stderr.write(`acereason: unknown command "${name}". Run \`acereason --help\` for the list.\n`);
    return 2;
  }
  const cmd = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.stdout.write(`${cmd.summary}\n\nusage: ${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest, ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.stderr.write(`acereason ${name}: ${err.message}${err.hint ? `\n${err.hint}` : ''}\n`);
      return 2;
    }
    const e = err as { code?: string; message?: string };
    ctx.stderr.write(`acereason ${name}: ${e.code ? `[${e.code}] ` : ''}${e.message ?? String(err)}\n`);
    if (process.env.ACEREASON_DEBUG === '1' && err instanceof Error) ctx.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
