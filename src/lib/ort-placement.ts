/**
 * Reads onnxruntime's verbose node-placement log (which execution provider runs each graph node) and
 * says which nodes sit on the CPU that should not.
 *
 * With session option `logSeverityLevel: 0`, onnxruntime-web 1.30 writes, through `console.error`,
 * one block per session from `VerifyEachNodeIsAssignedToAnEp` (session_state.cc):
 *
 *   [V:onnxruntime:<logId>, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] Node placements
 *   [V:onnxruntime:<logId>, ...]  All nodes placed on [WebGpuExecutionProvider]. Number of nodes: 68
 * or
 *   [V:onnxruntime:<logId>, ...]  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 3
 *   [V:onnxruntime:<logId>, ...]   Gather (batch)
 *   ...
 */

/** One graph node and the execution provider onnxruntime assigned it to. */
export interface NodePlacement {
  op: string;
  name: string;
  provider: string;
}

/** One session's placement block: node counts per provider, and the nodes when the log lists them. */
export interface SessionPlacement {
  /** The session's `logId` (empty when the session set none). */
  session: string;
  /** Node count per provider, as the log states it. */
  counts: Record<string, number>;
  /** Every node with its provider; empty when all nodes went to one provider (the log names none then). */
  nodes: NodePlacement[];
}

/**
 * Op types onnxruntime moves to the CPU as shape computation (GetCpuPreferredNodes: nodes whose outputs
 * feed a CPU-side input such as Reshape's shape, walked back through int64 producers). Seen in logs
 * of our own test graphs: Gather→Unsqueeze→Concat building a Reshape's target; the rest are the other
 * ops that only index, cut, join or create shape vectors. Integer arithmetic on shapes (Mul, Div) is
 * left out on purpose: none of our graphs puts it on the CPU, and a float Mul there would be real work.
 * Anything else on the CPU is real work falling back from the GPU.
 */
export const SHAPE_OPS: ReadonlySet<string> = new Set([
  'Shape',
  'Size',
  'Gather',
  'Unsqueeze',
  'Squeeze',
  'Concat',
  'Slice',
  'Reshape',
  'Cast',
  'ConstantOfShape',
  'Range',
]);

/** Options for `offProviderNodes`. */
export interface OffProviderOptions {
  /** The provider every node should run on. */
  provider: string;
  /** Op types allowed on the CPU provider anyway (shape computation). */
  allowedOnCpu: ReadonlySet<string>;
}

/** Defaults of `offProviderNodes`: the WebGPU EP, with shape ops allowed on the CPU. */
export const OFF_PROVIDER_DEFAULTS: OffProviderOptions = {
  provider: 'WebGpuExecutionProvider',
  allowedOnCpu: SHAPE_OPS,
};

const CPU_PROVIDER = 'CPUExecutionProvider';
// The logger prefix: severity letter, logger id (the session's logId), source location, function.
const PREFIX = /\[[VIWEF]:onnxruntime:([^,\]]*), [^\]]*VerifyEachNodeIsAssignedToAnEp\] (.*)$/;
const ALL_ON = /^ All nodes placed on \[(\w+)\]\. Number of nodes: (\d+)/;
const SOME_ON = /^ Node\(s\) placed on \[(\w+)\]\. Number of nodes: (\d+)/;
const NODE = /^ {2}(\S+) \((.*)\)$/;

/**
 * Parses every node-placement block in a captured log (text or lines, console noise and ANSI colour
 * codes allowed), one entry per session in log order.
 */
export function parsePlacements(log: string | readonly string[]): SessionPlacement[] {
  const lines = typeof log === 'string' ? log.split(/\r?\n/) : log.flatMap((l) => l.split(/\r?\n/));
  const sessions: SessionPlacement[] = [];
  let current: SessionPlacement | undefined;
  let provider = '';
  for (const raw of lines) {
    // eslint-disable-next-line no-control-regex
    const match = PREFIX.exec(raw.replace(/\u001b\[[0-9;]*m/g, ''));
    if (!match) continue;
    const [, session = '', message = ''] = match;
    if (message === 'Node placements') {
      current = { session, counts: {}, nodes: [] };
      sessions.push(current);
      continue;
    }
    if (!current || current.session !== session) continue;
    const block = ALL_ON.exec(message) ?? SOME_ON.exec(message);
    if (block) {
      provider = block[1]!;
      current.counts[provider] = Number(block[2]);
      continue;
    }
    const node = NODE.exec(message);
    if (node && provider) current.nodes.push({ op: node[1]!, name: node[2]!, provider });
  }
  for (const s of sessions) {
    const listed = s.nodes.length;
    const stated = Object.keys(s.counts).length > 1 ? Object.values(s.counts).reduce((a, b) => a + b, 0) : 0;
    if (listed !== stated) {
      throw new Error(`The placement log of session "${s.session}" lists ${listed} nodes but states ${stated}; was it cut short?`);
    }
  }
  return sessions;
}

/**
 * The nodes of a session that are neither on `provider` nor shape computation on the CPU; empty when
 * the session ran as it should.
 */
export function offProviderNodes(placement: SessionPlacement, opts: Partial<OffProviderOptions> = {}): NodePlacement[] {
  const { provider, allowedOnCpu } = { ...OFF_PROVIDER_DEFAULTS, ...opts };
  const providers = Object.keys(placement.counts);
  if (providers.length === 0) throw new Error(`Session "${placement.session}" placed no nodes.`);
  if (providers.length === 1) {
    // "All nodes placed on [X]": no names are logged, so report the count as one entry.
    return providers[0] === provider ? [] : [{ op: '*', name: `${placement.counts[providers[0]!]} nodes`, provider: providers[0]! }];
  }
  return placement.nodes.filter((n) => n.provider !== provider && !(n.provider === CPU_PROVIDER && allowedOnCpu.has(n.op)));
}
