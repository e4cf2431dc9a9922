/**
 * The browser lane as a runtime: `ncnn-wasm@chromium` and `ort-wasm@chromium` behind the same
 * Runtime interface as the Node runtimes, so bench and parity use them unchanged. Each loaded model
 * gets its own local server (127.0.0.1, random port, COOP/COEP), headless Chromium and page
 * (/page/lane.html): the engines fix their thread count when they start, so one page per model.
 */
import { basename, extname } from 'node:path';
import { FdkError } from '../util/errors.js';
import { readFileOrThrow } from '../util/fs.js';
import { convertOnnxForNcnn, type NcnnConversion } from '../runtime/ncnn-convert.js';
import { conversionNote } from '../runtime/model-source.js';
import { findNcnnWasm, variantFor } from '../runtime/ncnn-wasm/locate.js';
import type { LoadedModel, LoadOptions, Runtime, RuntimeInfo, TensorMap } from '../runtime/types.js';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, type BrowserName } from './chromium.js';
import { pageRoutes } from './routes.js';
import { startServer } from './server.js';

/** What the page reports about itself and the engine build that ran. */
export interface PageEnvironment {
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  simd: boolean;
  userAgent: string;
  hardwareConcurrency: number;
}

interface LoadReply {
  env: PageEnvironment;
  info: { variant: string; build: string; threads?: number };
  inputNames: string[];
  outputNames: string[];
  loadMs: number;
}

export class BrowserModel implements LoadedModel {
  private seq = 0;
  constructor(
    private page: Page,
    private files: Record<string, string | Uint8Array>,
    private closeAll: () => Promise<void>,
    readonly reply: LoadReply,
    readonly converted: NcnnConversion | undefined,
  ) {}
  get inputNames() {
    return this.reply.inputNames;
  }
  get outputNames() {
    return this.reply.outputNames;
  }
  /** The build that ran ("simd" or "simd-threads"), whether the page was cross-origin isolated, the browser. */
  get notes(): string[] {
    const e = this.reply.env;
    const conv = conversionNote(this.converted);
    return [...(conv ? [conv] : []), `browser lane: ${this.reply.info.build} (${this.reply.info.variant}) in ${e.userAgent.match(/(HeadlessChrome|Chrome)\/[\d.]+/)?.[0] ?? 'chromium'}; crossOriginIsolated=${e.crossOriginIsolated}, SIMD=${e.simd}`];
  }
  async run(inputs: TensorMap, outputNames?: string[]) {
    const specs = Object.entries(inputs).map(([name, t]) => {
      const url = `/input/${this.seq++}.f32`;
      this.files[url] = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      return { name, dims: t.dims, url };
    });
    let r: { ms: number; outputs: Record<string, { dims: number[]; base64: string }> };
    try {
      r = await this.page.evaluate(([i, o]) => (globalThis as any).fdkLane.run(i, o), [specs, outputNames] as const);
    } catch (e) {
      throw new FdkError(`the browser lane failed to run the model: ${pageErrorText(e)}`);
    } finally {
      for (const s of specs) delete this.files[s.url];
    }
    const outputs: TensorMap = {};
    for (const [k, v] of Object.entries(r.outputs)) {
      const b = Buffer.from(v.base64, 'base64');
      outputs[k] = { data: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), dims: v.dims };
    }
    return { outputs, ms: r.ms };
  }
  async release() {
    await this.page.evaluate(() => (globalThis as any).fdkLane.release()).catch(() => {});
    await this.closeAll();
  }
}

/** The first line of a playwright error, without its call log. */
function pageErrorText(e: unknown): string {
  return String((e as Error)?.message ?? e).replace(/^page\.evaluate: (Error: )?/, '').split('\n')[0];
}

/**
 * Opens `url` in a new page and waits until the page script has set `globalThis[ready]`; a page
 * that does not load (HTTP error, script error, timeout) is one FdkError naming the URL and the
 * first error the page reported.
 */
export async function openPage(context: BrowserContext, url: string, ready: string, timeoutMs = 60_000): Promise<Page> {
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e.message ?? e)));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  let problem: string | undefined;
  try {
    const resp = await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
    if (!resp || !resp.ok()) problem = `HTTP ${resp?.status() ?? 'no response'}`;
    else await page.waitForFunction((name) => (globalThis as any)[name] !== undefined, ready, { timeout: timeoutMs });
  } catch (e) {
    problem = pageErrors[0] ?? pageErrorText(e);
  }
  if (problem) {
    await page.close().catch(() => {});
    throw new FdkError(`the page failed to load (${url}): ${problem}`);
  }
  return page;
}

export function browserRuntime(engine: 'ncnn-wasm' | 'ort-wasm', browser: BrowserName): Runtime {
  const name = `${engine}@${browser}` as const;
  return {
    async info(): Promise<RuntimeInfo> {
      const detail = engine === 'ncnn-wasm' ? 'ncnn compiled to WebAssembly' : 'onnxruntime-web WebAssembly backend';
      const version = engine === 'ncnn-wasm' ? findNcnnWasm('simd')?.meta.ncnn ?? 'not built' : (await import('onnxruntime-web')).env.versions.web ?? 'unknown';
      return { name, version, detail: `${detail} in headless ${browser} (local server with COOP/COEP)` };
    },
    async load(model: string, opts: LoadOptions = {}): Promise<BrowserModel> {
      const threads = opts.threads ?? 1;
      const ext = extname(model).toLowerCase();
      let files: { param?: string; bin?: string; onnx?: string };
      let converted: NcnnConversion | undefined;
      if (engine === 'ncnn-wasm') {
        if (!findNcnnWasm(variantFor(threads)))
          throw new FdkError(`the ncnn-wasm module (${variantFor(threads)}) is not built: run \`npm run setup\` or \`bash scripts/build-ncnn-wasm.sh\``);
        if (ext === '.onnx') {
          converted = await convertOnnxForNcnn(model, opts.inputShapes ?? {}, { optimize: opts.ncnn?.optimize });
          files = { param: converted.param, bin: converted.bin };
        } else if (ext === '.param') files = { param: model, bin: model.replace(/\.param$/, '.bin') };
        else throw new FdkError('ncnn-wasm loads .param (with its .bin) or .onnx (converted first)', { file: model });
      } else {
        if (ext !== '.onnx') throw new FdkError('ort-wasm loads an .onnx model', { file: model });
        files = { onnx: model };
      }
      const routes = pageRoutes();
      const urls: Record<string, string> = {};
      for (const [k, path] of Object.entries(files)) {
        urls[k] = `/model/${k}/${encodeURIComponent(basename(path))}`;
        routes.files[urls[k]] = readFileOrThrow(path);
      }
      const server = await startServer(routes);
      let browserHandle: Awaited<ReturnType<typeof launchChromium>> | undefined;
      const closeAll = async () => {
        await browserHandle?.close();
        await server.close();
      };
      try {
        browserHandle = await launchChromium();
        const page = await openPage(browserHandle.context, `${server.url}/page/lane.html`, 'fdkLane');
        let reply: LoadReply;
        try {
          reply = await page.evaluate(([r, f, t]) => (globalThis as any).fdkLane.load(r, f, t), [engine, urls, threads] as const);
        } catch (e) {
          throw new FdkError(`${name} cannot load the model: ${pageErrorText(e)}`, { file: converted?.onnx ?? model });
        }
        if (threads > 1 && !reply.env.crossOriginIsolated)
          throw new FdkError(`${name}: the page is not cross-origin isolated, so wasm threads cannot run`);
        return new BrowserModel(page, routes.files, closeAll, reply, converted);
      } catch (e) {
        await closeAll();
        throw e;
      }
    },
  };
}

