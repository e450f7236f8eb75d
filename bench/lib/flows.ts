// Flows the benchmarks deploy: a segmind-config pointing at the sandbox, one await node whose three
// outputs are wired to a sink (so Node-RED routes what it sends, as in a real flow), and
// optionally a model node in front of it.
import type { SandboxInfo } from './sandbox-proc';

export const IDS = { tab: 'bench-tab', config: 'bench-config', await: 'bench-await', sink: 'bench-sink', model: 'bench-model' };

export interface FlowOptions {
  sandbox: SandboxInfo;
  /** the config node's request budget, requests per minute */
  rpm: number;
  timeScale: number;
  resultMode?: 'url' | 'buffer' | 'file';
  folder?: string;
  /** the await node's timeout, API seconds */
  timeoutSeconds?: number;
  /** put a model node of this type (e.g. 'segmind sadtalker') in front of the await node */
  modelNodeType?: string;
}

export function benchFlow(o: FlowOptions): { flow: Record<string, unknown>[]; credentials: Record<string, Record<string, string>> } {
  const flow: Record<string, unknown>[] = [
    { id: IDS.tab, type: 'tab', label: 'bench' },
    {
      id: IDS.config,
      type: 'segmind-config',
      name: 'sandbox',
      baseUrl: o.sandbox.url,
      uploadUrl: o.sandbox.uploadUrl,
      rpm: String(o.rpm),
      timeScale: String(o.timeScale),
    },
    {
      id: IDS.await,
      type: 'segmind await',
      z: IDS.tab,
      name: '',
      config: IDS.config,
      result: o.resultMode ?? 'url',
      folder: o.folder ?? '',
      timeout: String(o.timeoutSeconds ?? 3600),
      wires: [[IDS.sink], [IDS.sink], [IDS.sink]],
    },
    // a disabled debug node: receives and drops, like any downstream node would
    { id: IDS.sink, type: 'debug', z: IDS.tab, active: false, tosidebar: false, console: false, tostatus: false, complete: 'false', wires: [] },
  ];
  if (o.modelNodeType) {
    flow.push({ id: IDS.model, type: o.modelNodeType, z: IDS.tab, name: '', config: IDS.config, wires: [[IDS.await]] });
  }
  return { flow, credentials: { [IDS.config]: { apiKey: o.sandbox.apiKey } } };
}
