import { KibokoError } from '../../common/errors.js';

/** Where a template failed: while parsing its text, or while executing it against data. */
export type TemplatePhase = 'parse' | 'exec';

/**
 * A template failure. `message` is exactly the text Go's text/template would return
 * (`template: name:3: unexpected "}" in operand`,
 * `template: name:1:2: executing "name" at <getv "/x">: error calling getv: key does not exist: /x`),
 * so logs and tests written against confd keep matching.
 */
export class TemplateError extends KibokoError {
  readonly phase: TemplatePhase;
  readonly templateName: string;

  constructor(phase: TemplatePhase, templateName: string, message: string, cause?: unknown) {
    super(phase === 'parse' ? 'INVALID_ARGUMENT' : 'ACTION_FAILED', message, {
      cause,
      hint:
        phase === 'parse'
          ? 'fix the template syntax at the line shown (Go text/template rules)'
          : 'check the data/keys the template reads at the line:column shown',
      details: { phase, template: templateName },
    });
    this.name = 'TemplateError';
    this.phase = phase;
    this.templateName = templateName;
  }
}

/**
 * What a template function throws to fail like a Go function returning a non-nil error:
 * execution stops with `error calling <fn>: <message>`.
 */
export class GoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GoError';
  }
}
