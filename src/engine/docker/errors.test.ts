import { describe, expect, it } from 'vitest';
import { KibokoError } from '../../common/errors.js';
import { notSwarm } from '../fake-records.js';
import { translateEngineError } from './errors.js';

const ctx = { endpoint: 'unix:///var/run/docker.sock', operation: 'list services' };
/** What docker-modem rejects with: the status and the engine's JSON body. */
const modemError = (statusCode: number, message: string) => Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message}`), { statusCode, json: { message } });

describe('translateEngineError', () => {
  it('a Swarm call to an engine outside a Swarm is an engine error that says what to do, as FakeEngine says', () => {
    // Docker 20.10's answer to GET /services, /nodes, /tasks when the engine is not a manager.
    const e = translateEngineError(modemError(503, 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'), ctx)!;
    expect(e).toBeInstanceOf(KibokoError);
    expect(e.code).toBe('ENGINE_ERROR');
    expect(notSwarm()).toMatchObject({ code: e.code, hint: e.hint });
    expect(e.message).toMatch(/^list services: This node is not a swarm manager/);
    expect(e.hint).toMatch(/docker swarm init/);
    const worker = translateEngineError(modemError(503, "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager."), ctx)!;
    expect(worker.code).toBe('ENGINE_ERROR');
    expect(worker.hint).toMatch(/manager/);
  });

  it('another 503 stays an engine error', () => {
    expect(translateEngineError(modemError(503, 'service unavailable'), ctx)).toMatchObject({ code: 'ENGINE_ERROR', message: 'list services: engine error 503: service unavailable' });
  });

  it('maps the other statuses as before', () => {
    expect(translateEngineError(modemError(404, 'No such container: x'), ctx)?.code).toBe('TARGET_NOT_FOUND');
    expect(translateEngineError(modemError(409, 'is already paused'), ctx)?.code).toBe('CONFLICT');
    expect(translateEngineError(modemError(500, 'Container x is not paused'), ctx)?.code).toBe('CONFLICT');
    expect(translateEngineError(modemError(400, 'bad'), ctx)?.code).toBe('INVALID_ARGUMENT');
    expect(translateEngineError(Object.assign(new Error('x'), { statusCode: 304 }), ctx)).toBeUndefined();
    expect(translateEngineError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), ctx)?.code).toBe('ENGINE_UNREACHABLE');
  });
});
