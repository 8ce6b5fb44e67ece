import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP relay between an app's Redis client and redis-server that counts round trips: each
 * burst the client writes (one `data` event: node-redis writes the commands of one tick
 * together) is one trip to Redis and back. Measured one sign-in at a time, bursts are not
 * merged by the kernel: the next one waits for the answer to the last.
 */
export interface RoundTripCounter {
  /** The port to point the app's Redis client at. */
  readonly port: number;
  /** Client bursts relayed so far. */
  readonly roundTrips: number;
  reset(): void;
  close(): Promise<void>;
}

export async function startRoundTripCounter(redisPort: number): Promise<RoundTripCounter> {
  let roundTrips = 0;
  const sockets = new Set<Socket>();
  const relay = (client: Socket) => {
    const upstream = connect(redisPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => (socket === client ? upstream : client).destroy());
    }
    client.on('data', (chunk) => {
      roundTrips += 1;
      if (process.env.DEBUG_TRIPS) console.log('TRIP', chunk.toString('latin1').replace(/\r\n/g, ' ').slice(0, 160));
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  };
  const server: Server = createServer(relay);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('round-trip counter: no port');
  return {
    port: address.port,
    get roundTrips() {
      return roundTrips;
    },
    reset() {
      roundTrips = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
