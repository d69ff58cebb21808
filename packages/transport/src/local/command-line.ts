/** A service's command line it cannot run with, as a typed error the CLI shows with the usage. */
import { AceReasonError, ErrorCodes } from '@acereason/protocol';

/** A missing or bad flag (or flags that do not go together). `usage` is the command's, when the thrower knows it. */
export class CommandLineError extends AceReasonError {
  override readonly name = 'CommandLineError';
  constructor(message: string, readonly usage?: string) {
    super(ErrorCodes.INVALID, message, { field: 'argv', retryable: false });
  }
}

export function requiredFlag(flag: string, usage: string): CommandLineError {
  return new CommandLineError(`${flag} is required`, usage);
}
