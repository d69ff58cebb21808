/**
 * Errors as the OpenAI API returns them: `{error: {message, type, param, code}}` with the HTTP
 * status, so any OpenAI client raises its usual error classes (BadRequestError with `param` ...).
 */
export type OpenAIErrorType = 'invalid_request_error' | 'authentication_error' | 'not_found_error' | 'server_error' | 'service_unavailable';

export class OpenAIHttpError extends Error {
  override readonly name = 'OpenAIHttpError';
  constructor(
    readonly status: number,
    readonly type: OpenAIErrorType,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badParam = (param: string, problem: string): OpenAIHttpError => new OpenAIHttpError(400, 'invalid_request_error', `${param}: ${problem}`, param, 'invalid_value');
