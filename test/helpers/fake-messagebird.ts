import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type FakeReply = (request: RecordedRequest, response: ServerResponse) => void;

/**
 * A stand-in for rest.messagebird.com: a plain-HTTP server on loopback that records every
 * request and answers with `reply` (a 201 with a fresh message id unless a test sets another).
 * The real SDK reaches it through {@link loopbackAgent}.
 */
export interface FakeMessageBird {
  readonly port: number;
  readonly requests: RecordedRequest[];
  reply: FakeReply;
  close(): Promise<void>;
}

export const acceptMessage: FakeReply = (_request, response) => {
  response.writeHead(201, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify({ id: `mb-${Math.random().toString(16).slice(2)}`, direction: 'mt' }));
};

export async function startFakeMessageBird(): Promise<FakeMessageBird> {
  const requests: RecordedRequest[] = [];
  const fake = {
    port: 0,
    requests,
    reply: acceptMessage,
    close: async () => {},
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const recorded: RecordedRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      fake.reply(recorded, response);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  fake.port = typeof address === 'object' && address ? address.port : 0;
  fake.close = () =>
    new Promise<void>((resolve) => {
      // Replies some tests never send would otherwise keep close() waiting.
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

/**
 * An https.Agent whose connections are plain TCP sockets to 127.0.0.1:`port`. The SDK still
 * builds its request for https://rest.messagebird.com, but the bytes go, unencrypted, to the
 * fake: no DNS, no TLS, no network beyond loopback.
 */
export function loopbackAgent(port: number): https.Agent {
  const agent = new https.Agent({ keepAlive: false });
  agent.createConnection = () => net.connect(port, '127.0.0.1');
  return agent;
}

/** A loopback port nothing listens on: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}
