/**
 * A NATS server plus a connection with the topology in place: the starting point of most tests.
 */
import { connectNats, drainQuietly, ensureTopology, startNatsServer, type NatsConnection, type NatsServer, type NatsServerSettings, type Topology, type TopologySettings } from '@acereason/transport';

export interface NatsFixture extends AsyncDisposable {
  server: NatsServer;
  nc: NatsConnection;
  topology: Topology;
  /** Opens another connection (closed on dispose). */
  connect(name?: string): Promise<NatsConnection>;
}

export async function natsFixture(opts: { server?: NatsServerSettings; topology?: TopologySettings } = {}): Promise<NatsFixture> {
  const server = await startNatsServer(opts.server);
  const conns: NatsConnection[] = [];
  const connect = async (name = 'test'): Promise<NatsConnection> => {
    const c = await connectNats({ servers: server.url, name });
    conns.push(c);
    return c;
  };
  const nc = await connect('fixture');
  const topology = await ensureTopology(nc, opts.topology);
  return {
    server, nc, topology, connect,
    async [Symbol.asyncDispose]() {
      for (const c of conns) await drainQuietly(c);
      await server[Symbol.asyncDispose]();
    },
  };
}
