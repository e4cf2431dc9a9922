/**
 * The converter's last gate before writing (issue #15, item 7): the .param text and .bin bytes it
 * is about to write are read back with fdk's own reader, and must give the layer and blob counts
 * and the weight byte count the converter reported. On top, the facts ncnn itself relies on when
 * it loads a model (a layer whose input blob nobody produced, a stride of 0 or a group that does
 * not divide the channels make ncnn refuse the file or crash its worker).
 */
import { FdkError, escapeName } from '../../util/errors.js';
import { parseParam, paramInt, type ParamDict } from './format/param.js';
import { checkBinChunks, binByteLength } from './format/bin.js';
import type { ConvertResult } from './convert.js';

const CONV_LAYERS = new Set(['Convolution', 'ConvolutionDepthWise', 'Deconvolution', 'DeconvolutionDepthWise', 'Convolution1D', 'ConvolutionDepthWise1D']);

/** Throws an FdkError naming `file` (the source model) when the output would not load. */
export function verifyNcnnOutput(r: Pick<ConvertResult, 'param' | 'bin' | 'summary'>, file: string): void {
  const fail = (why: string): never => {
    throw new FdkError(`conversion produced an ncnn model that would not load (${why}); nothing was written`, { file });
  };
  let parsed: ReturnType<typeof parseParam>;
  try {
    parsed = parseParam(r.param, `${file} -> .param`);
  } catch (e) {
    return fail(`.param re-read: ${(e as Error).message}`);
  }
  const s = r.summary;
  if (parsed.layers.length !== s.ncnnLayers) fail(`.param has ${parsed.layers.length} layers, the converter made ${s.ncnnLayers}`);
  if (parsed.blobCount !== s.blobs) fail(`.param declares ${parsed.blobCount} blobs, the converter made ${s.blobs}`);
  const byteLength = binByteLength(r.bin);
  if (byteLength !== s.weightBytes) fail(`.bin has ${byteLength} bytes, the converter counted ${s.weightBytes}`);
  try {
    // the reader's checks on the chunks as they will be written, without a second copy of the weights
    checkBinChunks(r.bin, parsed.layers, `${file} -> .bin`);
  } catch (e) {
    fail(`.bin re-read: ${(e as Error).message}`);
  }

  const produced = new Set<string>();
  let blobs = 0;
  for (const l of parsed.layers) {
    const where = `layer '${escapeName(l.name)}' (${escapeName(l.type)})`;
    for (const i of l.inputs) if (!produced.has(i)) fail(`${where} reads blob '${escapeName(i)}', which no earlier layer produces`);
    for (const o of l.outputs) {
      if (produced.has(o)) fail(`${where} produces blob '${escapeName(o)}' a second time`);
      produced.add(o);
      blobs++;
    }
    checkLayerParams(l.type, l.params, where, fail);
  }
  if (blobs !== parsed.blobCount) fail(`.param declares ${parsed.blobCount} blobs, its layers produce ${blobs}`);
}

function checkLayerParams(type: string, p: ParamDict, where: string, fail: (why: string) => never): void {
  const positive = (id: number, name: string, def: number) => {
    const v = paramInt(p, id, def);
    if (!(Number.isInteger(v) && v >= 1)) fail(`${where}: ${name} ${v} must be >= 1`);
    return v;
  };
  if (CONV_LAYERS.has(type)) {
    const out = positive(0, 'num_output', 0);
    const kw = positive(1, 'kernel_w', 0);
    positive(11, 'kernel_h', kw);
    const dw = positive(2, 'dilation_w', 1);
    positive(12, 'dilation_h', dw);
    const sw = positive(3, 'stride_w', 1);
    positive(13, 'stride_h', sw);
    if (type.includes('DepthWise')) {
      const group = positive(7, 'group', 1);
      const size = paramInt(p, 6, 0);
      if (out % group !== 0 || size % group !== 0) fail(`${where}: group ${group} does not divide num_output ${out} and weight size ${size}`);
    }
  } else if (type === 'Pooling' && paramInt(p, 4, 0) === 0 && paramInt(p, 7, 0) === 0) {
    // global (4=1) and adaptive (7=1) pooling take their window from the input: no kernel to check
    const kw = positive(1, 'kernel_w', 0);
    positive(11, 'kernel_h', kw);
    const sw = positive(2, 'stride_w', 1);
    positive(12, 'stride_h', sw);
  }
}
