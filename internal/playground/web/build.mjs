// Bundles src/ into ../dist (app.js, app.css, index.html). Run: npm ci && npm run build
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';

// PLAYGROUND_OUT (a directory) builds elsewhere: make e2e compares such a
// build with the committed one.
const out = process.env.PLAYGROUND_OUT
  ? process.env.PLAYGROUND_OUT.replace(/\/?$/, '/')
  : new URL('../dist/', import.meta.url).pathname;
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

await build({
  entryPoints: { app: 'src/main.jsx' },
  outdir: out,
  bundle: true,
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  format: 'iife',
  target: ['es2020'],
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  // Fonts/images referenced from CSS are inlined so nothing is fetched elsewhere.
  loader: { '.woff': 'dataurl', '.woff2': 'dataurl', '.svg': 'dataurl', '.png': 'dataurl' },
  logLevel: 'info',
});
await copyFile('src/index.html', out + 'index.html');
