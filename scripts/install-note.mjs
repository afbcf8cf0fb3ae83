// `npm install`'s prepare step (it runs in this repository only, never where the package is installed from a
// registry): on a Node older than the project's, one line instead of npm's engine warnings (.npmrc hides them).

/** The line for this Node version, or undefined when there is nothing to say. */
export function installNote(version) {
  const major = Number(version.replace(/^v/, "").split(".")[0]);
  if (major >= 24) return undefined;
  return `tool-output-relay: installed with Node ${version}; npm start, npm test and npx run on the Node 24 now in node_modules (engine warnings hidden by .npmrc).`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const note = installNote(process.version);
  if (note) console.log(note);
}
