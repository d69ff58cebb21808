export { main } from './cli.js';
export type { Command, CommandContext } from './command.js';
export { UsageError } from './command.js';
export { benchChaos, type ChaosOptions } from './bench/chaos.js';
export { warmStartWeights, smallSums, WARM_PROMPT_TEMPLATE } from './local/warm-start.js';
export { LocalCluster, type LocalClusterOptions } from './local/cluster.js';
