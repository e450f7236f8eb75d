// Writes examples/flows/*.json from the model specs and the built editor HTML (scripts/lib/example-flows.ts).
//
//   npx tsx scripts/build-examples.ts          write the files (after npm run build)
//   npx tsx scripts/build-examples.ts --check  exit 1 if a file is missing, differs or is stale
import { existsSync, mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLES_DIR } from './lib/demo-flows';
import { exampleFiles } from './lib/example-flows';

function main(): void {
  const check = process.argv.includes('--check');
  const files = exampleFiles();
  mkdirSync(EXAMPLES_DIR, { recursive: true });
  const wrong: string[] = [];
  for (const [name, text] of files) {
    const file = join(EXAMPLES_DIR, name);
    if (existsSync(file) && readFileSync(file, 'utf8') === text) continue;
    if (check) wrong.push(`${file} differs`);
    else writeFileSync(file, text);
  }
  for (const name of readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.json') && !files.has(f))) {
    if (check) wrong.push(`${join(EXAMPLES_DIR, name)} is not generated`);
    else unlinkSync(join(EXAMPLES_DIR, name));
  }
  if (wrong.length > 0) {
    console.error(`build-examples: out of date (run npx tsx scripts/build-examples.ts):\n  ${wrong.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`build-examples: ${files.size} example flows ${check ? 'up to date' : 'written'} in examples/flows/`);
}

main();
