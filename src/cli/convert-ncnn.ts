// Placeholder until the converter lands; replaced by its owner.
import { FdkError } from '../util/errors.js';
import type { ConvertCliOptions } from './convert.js';
export async function convertToNcnnCommand(input: string, _opts: ConvertCliOptions): Promise<void> {
  throw new FdkError('conversion not available yet', { file: input });
}
