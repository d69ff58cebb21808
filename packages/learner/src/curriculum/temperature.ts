/**
 * Sampling temperature per step: fixed, a linear schedule over the stage, or an entropy target.
 * The target controller (AceReason 1.1) holds the temperature-adjusted entropy of the policy near
 * a set value (0.3 in the papers) by nudging the temperature multiplicatively after each step.
 */
export type TemperatureConfig =
  | { kind: 'fixed'; value: number }
  | { kind: 'schedule'; from: number; to: number }
  | { kind: 'entropy-target'; target: number; initial: number; min: number; max: number; gain: number };

export function initialTemperature(t: TemperatureConfig): number {
  return t.kind === 'fixed' ? t.value : t.kind === 'schedule' ? t.from : t.initial;
}

/** Temperature for step `stageStep` of `stageSteps`, given the current one and the last measured entropy. */
export function nextTemperature(t: TemperatureConfig, current: number, stageStep: number, stageSteps: number, lastEntropy: number | undefined): number {
  switch (t.kind) {
    case 'fixed':
      return t.value;
    case 'schedule':
      return t.from + ((t.to - t.from) * Math.min(stageStep, Math.max(1, stageSteps - 1))) / Math.max(1, stageSteps - 1);
    case 'entropy-target': {
      if (lastEntropy === undefined || !Number.isFinite(lastEntropy)) return current;
      // Entropy rises with temperature: too little entropy -> heat up, too much -> cool down.
      const next = current * Math.exp(t.gain * (t.target - lastEntropy));
      return Math.min(t.max, Math.max(t.min, next));
    }
  }
}
