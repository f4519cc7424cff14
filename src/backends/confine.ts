/**
 * Ids that would leave the configured path. Airflow does no sanitising: an id is joined onto the
 * mount or prefix as it is, so `../../../sys/mounts` makes Vault read `/v1/sys/mounts` (the HTTP
 * client resolves the dot segments, and Vault cleans `//`), and an id with `/` in it moves a
 * Google Cloud resource name out of `projects/<p>/secrets/`. The adapters keep that behaviour by
 * default (Airflow parity) and show the path that is really requested; with `confineIds` (on by
 * default in the CLI) they refuse such ids: `locate` skips them, saying why.
 *
 * Kept apart from each adapter's naming, so it checks the final path whatever rules built it.
 */

/**
 * A `/`-separated path as an HTTP server sees it once the client and Go's `path.Clean` have had it:
 * empty and `.` segments dropped, `..` removing the segment before it (never past the root).
 */
export function cleanPath(path: string): string {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return out.join('/');
}

/** Whether `path`, once cleaned, is still strictly below `base` (also cleaned). */
export function staysBelow(path: string, base: string): boolean {
  const b = cleanPath(base);
  const p = cleanPath(path);
  return b === '' ? p !== '' : p.startsWith(`${b}/`);
}

/** The `skip` reason of a refused id: what it would have read, and the setting that refused it. */
export function refusal(id: string, base: string, wouldRead: string): string {
  return `id '${id}' would leave '${base}' (the request would be for '${wouldRead}'); refused by confineIds`;
}
