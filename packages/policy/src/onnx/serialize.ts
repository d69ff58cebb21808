import onnxProto from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';
import type { AttrValue, ConstTensor, Dim, ElemType, Graph, Value } from './graph.js';

/** The standard-domain opset our graphs target (ScatterND reduction=add needs 16+). */
export const OPSET = 17;

const { onnx } = onnxProto;
/** Initializers from this size on go to external data (see serializeModelExternal). */
const EXTERNAL_MIN_BYTES = 1 << 20;
const DT = onnx.TensorProto.DataType;
const elemCode: Record<ElemType, number> = {
  float32: DT.FLOAT,
  float64: DT.DOUBLE,
  int32: DT.INT32,
  int64: DT.INT64,
  bool: DT.BOOL,
};

/** An initializer's bytes kept out of the protobuf, for `externalData` of an ONNX Runtime session. */
export interface ExternalData {
  path: string;
  data: Uint8Array;
}

function tensorProto(name: string, t: ConstTensor, external?: ExternalData[]): P.ITensorProto {
  const d = t.data;
  if (external !== undefined && d.byteLength >= EXTERNAL_MIN_BYTES) {
    // A reference into the caller's buffer (no copy into the protobuf, none in ONNX Runtime's parse).
    const path = `w${external.length}`;
    external.push({ path, data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) });
    const entries = { location: path, offset: '0', length: String(d.byteLength) };
    return { name, dataType: elemCode[t.type], dims: [...t.dims], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: Object.entries(entries).map(([key, value]) => ({ key, value })) };
  }
  return {
    name,
    dataType: elemCode[t.type],
    dims: [...t.dims],
    rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
  };
}

function valueInfo(v: Value): P.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: elemCode[v.type],
        shape: { dim: v.shape.map((d: Dim) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, a: AttrValue): P.IAttributeProto {
  const AT = onnx.AttributeProto.AttributeType;
  if (typeof a === 'number') return { name, type: AT.INT, i: a };
  if (typeof a === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(a) };
  if ('floatValue' in a) return { name, type: AT.FLOAT, f: a.floatValue };
  if ('tensor' in a) return { name, type: AT.TENSOR, t: tensorProto('', a.tensor) };
  return { name, type: AT.INTS, ints: [...a] };
}

/** Drops nodes and initializers that no graph output depends on (autodiff emits a few). */
function prune(g: Graph): { nodes: Graph['nodes']; initializers: Graph['initializers'] } {
  const live = new Set(g.outputs.map((v) => v.name));
  const kept: Graph['nodes'] = [];
  for (let k = g.nodes.length - 1; k >= 0; k--) {
    const n = g.nodes[k];
    if (n === undefined || !n.outputs.some((v) => live.has(v.name))) continue;
    kept.push(n);
    for (const v of n.inputs) if (v !== undefined) live.add(v.name);
  }
  kept.reverse();
  return { nodes: kept, initializers: g.initializers.filter((i) => live.has(i.value.name)) };
}

/** Encodes a graph as ONNX ModelProto bytes, ready for `InferenceSession.create`. */
export function serializeModel(g: Graph): Uint8Array {
  return encode(g);
}

/**
 * As serializeModel, but initializers of 1 MiB or more stay in their own buffers as external data,
 * appended to `external` (the session's `externalData`; the buffers must not change until it is created).
 */
export function serializeModelExternal(g: Graph, external: ExternalData[]): Uint8Array {
  return encode(g, external);
}

function encode(g: Graph, external?: ExternalData[]): Uint8Array {
  const { nodes, initializers } = prune(g);
  const domains = new Set(nodes.map((n) => n.domain).filter((d) => d !== ''));
  const model: P.IModelProto = {
    irVersion: 8,
    producerName: 'acereason-policy',
    opsetImport: [{ domain: '', version: OPSET }, ...[...domains].map((domain) => ({ domain, version: 1 }))],
    graph: {
      name: g.name,
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
      initializer: initializers.map((i) => tensorProto(i.value.name, i.tensor, external)),
      node: nodes.map((n, k) => ({
        name: `n${k}_${n.op}`,
        opType: n.op,
        domain: n.domain,
        input: n.inputs.map((v) => v?.name ?? ''),
        output: n.outputs.map((v) => v.name),
        attribute: Object.entries(n.attrs).map(([k2, a]) => attribute(k2, a)),
      })),
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
