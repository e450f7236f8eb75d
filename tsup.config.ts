import { defineConfig } from 'tsup';

// One bundle holds all runtime code so every node shares one module instance
// (one request budget per config node, one error class). scripts/build-nodes.ts then
// writes a thin nodes/<file>.js per node set plus its editor HTML and locales.
export default defineConfig({
  entry: {
    'lib/segmind': 'src/nodes/index.ts',
    'lib/sandbox': 'src/sandbox/index.ts',
    'lib/sandbox-cli': 'src/sandbox/cli.ts',
  },
  outDir: 'nodes',
  format: ['cjs'],
  target: 'node18',
  platform: 'node',
  sourcemap: false,
  clean: false,
  splitting: false,
  dts: false,
  shims: false,
});
