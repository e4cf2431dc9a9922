// Source entry used by tests (node --import tsx src/cli/entry.ts ...): same as bin/fdk.js without a build.
import { main } from './main.js';
main(process.argv).then((code) => { process.exitCode = code; });
