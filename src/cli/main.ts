import { Command } from 'commander';
import { readFileSync } from 'node:fs';

/**
 * `emostream` CLI. Each sub-command lives in its own module under ./commands and exports
 * `register(program)`; modules are imported lazily so `emostream serve` never loads TensorFlow.js.
 */
const COMMAND_MODULES: string[] = [
  // one entry per command module, e.g. './commands/serve.js'
  './commands/eval-face.js',
  './commands/eval-face-transfer.js',
  './commands/eval-speech-functionals.js',
  './commands/eval-speech.js',
  './commands/train-face.js',
  './commands/train-fusion.js',
  './commands/train-speech.js',
  './commands/serve.js',
  './commands/stream.js',
  './commands/subscribe.js',
  './commands/publish.js',
  './commands/token.js',
];

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const program = new Command('emostream')
  .description('Real-time emotion recognition from voice and face')
  .version(pkg.version)
  .showHelpAfterError();

for (const mod of COMMAND_MODULES) {
  const { register } = (await import(mod)) as { register: (p: Command) => void };
  register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`emostream: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
