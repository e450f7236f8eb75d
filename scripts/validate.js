#!/usr/bin/env node
// Runs `node-red-dev validate` on this package with every check it can run offline.
// Two checks (P08 similar package names, N01 unique node names) read the Node-RED flow catalogue at
// catalogue.nodered.org, which these machines cannot reach; its unreachability otherwise aborts the
// whole run. Those two requests alone get an empty catalogue, and the two checks are reported as
// NOT RUN (never as passed). Everything else, including its npm registry look-ups, runs for real.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const devDir = path.dirname(require.resolve('node-red-dev/package.json'));
const axios = require(require.resolve('axios', { paths: [path.join(devDir, 'src/libs')] }));
const CATALOGUE_CHECKS = ['P08', 'N01'];
// D03 ("dependencies SHOULD be at their latest version") flags these on purpose:
const HELD_BACK = {
  undici: 'undici 8 requires Node 22; Node-RED 3.1 and 4 users run Node 20, so 7.x (Node 20) is used',
  'file-type': 'file-type 17+ is ESM-only; 16.x is its last CommonJS release, which Node-RED 3.1/4 can require()',
  zod: 'zod 4 changes the schema API this package is written against; 3.x is maintained',
};

axios.interceptors.request.use((config) => {
  if (/^https:\/\/catalogue\.nodered\.org\//.test(config.url || '')) {
    config.adapter = async () => ({ data: { modules: [] }, status: 200, statusText: 'offline', headers: {}, config });
  }
  return config;
});

async function main() {
  const out = path.join(root, '.tmp', 'validate-scorecard.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.rmSync(out, { force: true });
  const Validate = require(path.join(devDir, 'src/commands/validate.js'));
  try {
    await Validate.run(['--path', root, '--output', out]);
  } catch (err) {
    // oclif ends a finished command by throwing EEXIT with its exit code
    if (!(err && err.code === 'EEXIT' && err.oclif && err.oclif.exit === 0)) throw err;
  }
  if (!fs.existsSync(out)) throw new Error('node-red-dev validate wrote no scorecard');
  const scorecard = JSON.parse(fs.readFileSync(out, 'utf8'));
  const failed = [];
  console.log('\nScorecard:');
  for (const [id, result] of Object.entries(scorecard).sort()) {
    if (id === 'package') continue;
    if (id === 'D03' && !result.test && (result.packages || []).every((p) => HELD_BACK[p])) {
      console.log('  D03  held back on purpose:');
      for (const p of result.packages) console.log(`         ${p}: ${HELD_BACK[p]}`);
    } else if (CATALOGUE_CHECKS.includes(id)) {
      console.log(`  ${id}  NOT RUN (needs catalogue.nodered.org, unreachable offline)`);
    } else {
      console.log(`  ${id}  ${result.test ? 'pass' : 'FAIL'}`);
      if (!result.test) failed.push(id);
    }
  }
  if (failed.length) {
    console.error(`node-red-dev validate: failed ${failed.join(', ')}`);
    process.exit(1);
  }
  console.log(`node-red-dev validate: every other check passes, ${CATALOGUE_CHECKS.length} not run offline`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
