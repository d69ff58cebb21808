export { main } from './cli.js';
export type { Command, CommandContext } from './command.js';
export { UsageError } from './command.js';
