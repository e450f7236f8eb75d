// The generated model nodes in the real Node-RED runtime: the test helper registers the type from
// the built wrapper, and a real runtime (child process, package symlinked into a user directory)
// loads every node set and resolves RED._ keys from the generated catalogs as documented.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { specs } from '../../src/models';
import { SHARED_KEY } from '../../src/models/generate';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper');

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; 'node-red': { nodes: Record<string, string> } };

function built(rel: string): (RED: unknown) => unknown {
  const file = path.join(root, rel);
  assert.ok(fs.existsSync(file), `${rel} is missing: run npm run build`);
  assert.ok(fs.existsSync(path.join(root, 'nodes/lib/segmind.js')), 'nodes/lib/segmind.js is missing: run npm run build');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file);
}

describe('models: generated node in the runtime (test helper)', function () {
  before(() => helper.init(require.resolve('node-red')));
  afterEach(async () => {
    await helper.unload();
  });

  for (const spec of specs) {
    it(`registers ${spec.nodeType} from nodes/models/${spec.file}.js`, async () => {
      const flow = [{ id: 'm1', type: spec.nodeType, name: 'probe', wires: [] }];
      await helper.load([built('nodes/segmind-config.js'), built(`nodes/models/${spec.file}.js`)], flow);
      const node = helper.getNode('m1');
      assert.ok(node, `${spec.nodeType} was not created`);
      assert.equal(node.type, spec.nodeType);
      assert.equal(node.name, 'probe');
    });
  }
});

interface ProbeResult {
  sets: Array<{ id: string; name: string; types: string[]; err: string | null; enabled: boolean }>;
  lookups: Record<string, string[]>;
  help: Record<string, Record<string, string | null>>;
}

function runProbe(lang: string, probes: Array<{ set: string; keys: Array<[string, Record<string, unknown>?]> }>): Promise<ProbeResult> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'segmind-nr-'));
  const script = path.join(__dirname, 'fixtures', 'runtime-probe.js');
  return new Promise<ProbeResult>((resolve, reject) => {
    execFile(process.execPath, [script, root, userDir, lang, JSON.stringify(probes)], { timeout: 30000, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      fs.rmSync(userDir, { recursive: true, force: true });
      if (err) return reject(new Error(`runtime probe failed: ${err.message}\n${stderr}`));
      try {
        resolve(JSON.parse(stdout) as ProbeResult);
      } catch (e) {
        reject(new Error(`runtime probe printed no JSON: ${stdout.slice(0, 500)}\n${stderr.slice(0, 2000)}`));
      }
    });
  });
}

function catalog(lang: string, file: string): Record<string, Record<string, Record<string, unknown>>> {
  return JSON.parse(fs.readFileSync(path.join(root, 'nodes/models/locales', lang, `${file}.json`), 'utf8'));
}

describe('models: generated nodes in the real Node-RED runtime (child process)', function () {
  this.timeout(60000);

  for (const lang of ['en-US', 'de']) {
    it(`loads every node set and resolves RED._ per node set (${lang})`, async () => {
      const probes = specs.map((s) => ({
        set: s.file,
        keys: [
          [`${SHARED_KEY}.errors.noConfig`],
          [`${s.file}.label.${s.params[2].name}`],
          [`${s.file}.paletteLabel`],
          // another set's key is not visible without its namespace
          [`${specs.find((o) => o !== s)!.file}.paletteLabel`],
          // an explicit namespace reaches any set's catalog
          [`${pkg.name}/${specs[0].file}:${specs[0].file}.paletteLabel`],
        ] as Array<[string]>,
      }));
      const result = await runProbe(lang, probes);
      // every node set of package.json loads without error and registers its type
      const byName = Object.fromEntries(result.sets.map((s) => [s.name, s]));
      for (const name of Object.keys(pkg['node-red'].nodes)) {
        assert.ok(byName[name], `node set ${name} not loaded`);
        assert.equal(byName[name].err, null, `${name}: ${byName[name].err}`);
      }
      for (const spec of specs) {
        assert.deepEqual(byName[spec.file].types, [spec.nodeType]);
        assert.equal(byName[spec.file].id, `${pkg.name}/${spec.file}`);
        const cat = catalog(lang, spec.file);
        const other = specs.find((o) => o !== spec)!;
        const [noConfig, label, palette, foreign, explicit] = result.lookups[spec.file];
        assert.equal(noConfig, (cat[SHARED_KEY].errors as Record<string, string>).noConfig);
        assert.equal(label, (cat[spec.file].label as Record<string, string>)[spec.params[2].name]);
        assert.equal(palette, spec.title);
        assert.equal(foreign, `${other.file}.paletteLabel`, 'keys are per node set');
        assert.equal(explicit, specs[0].title);
        const help = result.help[spec.file][lang];
        assert.ok(help && help.includes(`data-help-name="${spec.nodeType}"`));
        const expectedHelp = fs.readFileSync(path.join(root, 'nodes/models/locales', lang, `${spec.file}.html`), 'utf8');
        assert.equal(help, expectedHelp, `${lang} help of ${spec.file} is served from locales/${lang}`);
      }
    });
  }
});
