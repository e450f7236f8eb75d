// Reads a Node-RED log for trouble. Node-RED prints "<date> - [warn] [module/set] message"; load
// failures come as [warn] lines naming the module, missing types as an [info] "Waiting for missing
// types" line, crashes as "[red] Uncaught Exception".

const PROBLEM = /\[(warn|error)\]|Uncaught Exception|Unhandled|Waiting for missing types|Missing node modules|Warning:|Error:/i;

export function problemLines(log: string): string[] {
  return log.split('\n').filter((line) => PROBLEM.test(line));
}

/** Problem lines that mention our package or one of our node types (all contain 'segmind'),
 * plus any crash, which is ours to answer for whoever caused it. */
export function ourProblems(log: string, ignore: RegExp[] = []): string[] {
  return problemLines(log).filter(
    (line) => (/segmind/i.test(line) || /Uncaught Exception|Unhandled/i.test(line)) && !ignore.some((re) => re.test(line)),
  );
}

/** Problem lines about anything else (other nodes, Node-RED itself): shown, not failed on. */
export function otherProblems(log: string): string[] {
  return problemLines(log).filter((line) => !/segmind/i.test(line) && !/Uncaught Exception|Unhandled/i.test(line));
}
