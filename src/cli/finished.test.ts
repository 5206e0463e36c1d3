import { afterEach, describe, expect, it, vi } from 'vitest';
import { exitIfFinished } from './finished.js';

describe('exitIfFinished', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    for (const s of [process.stdout, process.stderr]) delete (s as { writableLength?: number }).writableLength;
  });
  const exits = () => vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);

  it('ends the process when the command finished and stdout and stderr are written out', () => {
    const exit = exits();
    for (const s of [process.stdout, process.stderr]) Object.defineProperty(s, 'writableLength', { value: 0, configurable: true });
    exitIfFinished({ finished: true });
    expect(exit).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledWith();
  });

  it('leaves the process to end by itself otherwise', () => {
    const exit = exits();
    exitIfFinished(undefined);
    exitIfFinished({ finished: false });
    Object.defineProperty(process.stderr, 'writableLength', { value: 0, configurable: true });
    Object.defineProperty(process.stdout, 'writableLength', { value: 12, configurable: true });
    exitIfFinished({ finished: true });
    expect(exit).not.toHaveBeenCalled();
  });
});
