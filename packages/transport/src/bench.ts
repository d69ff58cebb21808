/**
 * `acereason bench transport`: the wire format and the JetStream path of the loop.
 *  - msgpack (ours) vs JSON encode+decode of a TrajectoryGroup (G=16, 4,096 tokens each);
 *  - JetStream publish -> consume -> ack of such groups through a real nats-server on loopback,
 *    next to plain core-NATS publish/subscribe of the same payloads.
 */
import { performance } from 'node:perf_hooks';
import { benchHost, codecs, exampleGroup, summarize, Streams, Subjects, Consumers, type BenchOptions, type BenchReport, type TrajectoryGroup } from '@acereason/protocol';
import { connectNats, drainQuietly } from './nats/connection.js';
import { ensureTopology } from './nats/topology.js';
import { jetstreamClient } from './nats/publish.js';
import { consume } from './nats/consumer.js';
import { startNatsServer } from './local/nats-server.js';

function toJson(g: TrajectoryGroup): string {
  return JSON.stringify({ ...g, promptTokens: Array.from(g.promptTokens), responses: g.responses.map((r) => ({ ...r, tokens: Array.from(r.tokens), logprobs: Array.from(r.logprobs) })) });
}

interface JsonResponse { tokens: number[]; logprobs: number[] }
function fromJson(s: string): TrajectoryGroup {
  const o = JSON.parse(s) as TrajectoryGroup & { promptTokens: number[]; responses: JsonResponse[] };
  return { ...o, promptTokens: Uint32Array.from(o.promptTokens), responses: o.responses.map((r) => ({ ...(r as unknown as TrajectoryGroup['responses'][number]), tokens: Uint32Array.from(r.tokens), logprobs: Float32Array.from(r.logprobs) })) };
}

function timeNs(fn: () => void, reps: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0));
  }
  return out;
}

async function codecFigures(reps: number) {
  const g = exampleGroup({ groupSize: 16, tokensPerResponse: 4096 });
  let sink = 0;
  timeNs(() => { sink += codecs.TrajectoryGroup.decode(codecs.TrajectoryGroup.encode(g)).responses.length; }, 3);
  timeNs(() => { sink += fromJson(toJson(g)).responses.length; }, 3);
  const msgpack = summarize(timeNs(() => { sink += codecs.TrajectoryGroup.decode(codecs.TrajectoryGroup.encode(g)).responses.length; }, reps));
  const json = summarize(timeNs(() => { sink += fromJson(toJson(g)).responses.length; }, reps));
  if (sink < 0) throw new Error('unreachable');
  return {
    group: { responses: 16, tokens_per_response: 4096, msgpack_bytes: codecs.TrajectoryGroup.encode(g).byteLength, json_bytes: Buffer.byteLength(toJson(g)) },
    msgpack_encode_decode_ns: { median: msgpack.median, p99: msgpack.p99 },
    json_encode_decode_ns: { median: json.median, p99: json.p99 },
  };
}

async function streamFigures(n: number) {
  await using server = await startNatsServer();
  const nc = await connectNats({ servers: server.url, name: 'bench' });
  try {
    await ensureTopology(nc);
    const payloads = Array.from({ length: n }, (_, i) => codecs.TrajectoryGroup.encode(exampleGroup({ id: `b${i}`, groupSize: 16, tokensPerResponse: 4096 })));
    const bytes = payloads[0]?.byteLength ?? 0;

    // JetStream: publish with ack (durable), consume through the leased consumer, ack each.
    const js = jetstreamClient(nc);
    const subject = Subjects.trajectory('bench', 'math');
    const sentAt = new Map<string, number>();
    const consumer = await consume(nc, { stream: Streams.TRAJECTORIES, durable: Consumers.verifiers('bench', 'math'), filterSubject: subject, codec: codecs.TrajectoryGroup, maxInFlight: 32 });
    const lat: number[] = [];
    const t0 = performance.now();
    const consumed = (async () => {
      let count = 0;
      for await (const d of consumer) {
        lat.push(performance.now() - (sentAt.get(d.value.id) ?? t0));
        await d.ack();
        if (++count === n) break;
      }
    })();
    for (let i = 0; i < n; i++) {
      sentAt.set(`b${i}`, performance.now());
      await js.publish(subject, payloads[i] as Uint8Array, { msgID: `b${i}` });
    }
    await consumed;
    const jsSeconds = (performance.now() - t0) / 1000;

    // Core NATS: the same payloads, fire-and-forget publish, plain subscription, decode each.
    const core = await connectNats({ servers: server.url, name: 'bench-core' });
    const coreLat: number[] = [];
    const coreSent = new Map<string, number>();
    const sub = core.subscribe('bench.core');
    const t1 = performance.now();
    const received = (async () => {
      let count = 0;
      for await (const m of sub) {
        const g = codecs.TrajectoryGroup.decode(m.data);
        coreLat.push(performance.now() - (coreSent.get(g.id) ?? t1));
        if (++count === n) break;
      }
    })();
    await core.flush();
    for (let i = 0; i < n; i++) {
      coreSent.set(`b${i}`, performance.now());
      nc.publish('bench.core', payloads[i] as Uint8Array);
      if (i % 8 === 7) await nc.flush();
    }
    await nc.flush();
    await received;
    const coreSeconds = (performance.now() - t1) / 1000;
    await drainQuietly(core);
    const jsL = summarize(lat);
    const coreL = summarize(coreLat);
    return {
      groups: n,
      group_bytes: bytes,
      jetstream: { groups_per_s: n / jsSeconds, mb_per_s: (n * bytes) / jsSeconds / 1e6, latency_ms: { p50: jsL.median, p99: jsL.p99 } },
      core_nats: { groups_per_s: n / coreSeconds, mb_per_s: (n * bytes) / coreSeconds / 1e6, latency_ms: { p50: coreL.median, p99: coreL.p99 } },
    };
  } finally {
    await drainQuietly(nc);
  }
}

export async function benchTransport(opts: BenchOptions = {}): Promise<BenchReport> {
  const codec = await codecFigures(opts.quick ? 10 : 60);
  const streams = await streamFigures(opts.quick ? 40 : 300);
  return {
    suite: 'transport',
    host: benchHost(),
    codec,
    streams,
    ratios: {
      // JSON time / msgpack time: how many times faster our wire format is.
      msgpack_vs_json: codec.json_encode_decode_ns.median / codec.msgpack_encode_decode_ns.median,
      // Durable, acked JetStream delivery vs fire-and-forget core NATS (the price of never losing data).
      jetstream_vs_core_nats_throughput: streams.jetstream.groups_per_s / streams.core_nats.groups_per_s,
    },
  };
}
