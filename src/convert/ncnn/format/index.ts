/** The ncnn .param/.bin format: model, writer, reader. */
export * from './param.js';
export * from './bin.js';
export * from './read.js';
