import type { IncomingMessage, ServerResponse } from 'node:http';

/** How a request proved itself: the unix socket's permissions, the token, a TLS client certificate, a dashboard session (GET only), the hook's HMAC signature (GitHub's body-only one, or kiboko's with timestamp and delivery id) or its `?token=`. */
export type Credential = 'socket' | 'token' | 'certificate' | 'session' | 'signature' | 'kiboko-signature' | 'hook-token';

export interface ApiCall {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  body: Buffer | undefined;
  credential?: Credential | undefined;
  /** The client's address (`unix` over the socket): per-client limits count by it. */
  client?: string | undefined;
}

export type ApiReply = { status: number; body?: unknown; headers?: Record<string, string> | undefined } | 'streamed';
