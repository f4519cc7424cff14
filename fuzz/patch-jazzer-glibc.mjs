/**
 * Make Jazzer.js's prebuilt libFuzzer addon load on glibc older than 2.38 (Debian 12 has 2.36).
 *
 * The prebuilt `fuzzer-linux-x64.node` that ships inside the `@jazzer.js/fuzzer` package (built on a
 * newer distribution) needs glibc 2.38 and libstdc++ 3.4.32 for three imports only:
 * - `__isoc23_strtol` and `__isoc23_strtoul`, the C23 spellings of `strtol`/`strtoul` (they only
 *   add a `0b` prefix for base 0 or 2; libFuzzer parses its flags in base 10). They are rewritten to
 *   `strtol@GLIBC_2.2.5` and `strtoul@GLIBC_2.2.5` (the names are suffixes of the old ones in
 *   `.dynstr`).
 * - `std::ios_base_library_init()`, a link-time marker GCC 13 emits for `<iostream>` that no code
 *   calls or relocates (older libstdc++ initialises the streams itself). It is made a weak import.
 * Both version requirements (`GLIBC_2.38`, `GLIBCXX_3.4.32`) are marked weak, so the loader no
 * longer insists on them. Nothing else in the file changes. It runs only when loading the addon fails with that error; the original file is
 * replaced by rename (never written in place), and a copy is kept next to it as `.orig`.
 *
 * Usage: node fuzz/patch-jazzer-glibc.mjs   (called by fuzz/run.mjs before fuzzing)
 */
import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

function addonPath() {
  const pkg = require.resolve('@jazzer.js/fuzzer/package.json');
  return join(dirname(pkg), 'prebuilds', `fuzzer-${process.platform}-${process.arch}.node`);
}

function loads(path) {
  try {
    process.dlopen({ exports: {} }, path);
    return null;
  } catch (e) {
    return String(e?.message ?? e);
  }
}

function cstr(buf, off) {
  let end = off;
  while (buf[end] !== 0) end++;
  return buf.toString('latin1', off, end);
}

function sections(buf) {
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  const read = (i) => {
    const o = shoff + i * shentsize;
    return {
      name: buf.readUInt32LE(o),
      offset: Number(buf.readBigUInt64LE(o + 0x18)),
      size: Number(buf.readBigUInt64LE(o + 0x20)),
    };
  };
  const names = read(shstrndx);
  const out = {};
  for (let i = 0; i < shnum; i++) {
    const s = read(i);
    out[cstr(buf, names.offset + s.name)] = s;
  }
  return out;
}

const RENAMED = new Set(['__isoc23_strtol', '__isoc23_strtoul']);
const WEAKENED = new Set(['_ZSt21ios_base_library_initv']);

/** Patch `buf` in memory; returns the number of imports rewritten. */
export function patch(buf) {
  if (buf.toString('latin1', 1, 4) !== 'ELF' || buf[4] !== 2 || buf[5] !== 1) {
    throw new Error('not a 64-bit little-endian ELF file');
  }
  const s = sections(buf);
  const dynstr = s['.dynstr'];
  const dynsym = s['.dynsym'];
  const versym = s['.gnu.version'];
  const verneed = s['.gnu.version_r'];
  if (!dynstr || !dynsym || !versym || !verneed) throw new Error('missing dynamic sections');
  let new38 = -1;
  let cxx32 = -1;
  let old225 = -1;
  for (let vn = verneed.offset; ; ) {
    const cnt = buf.readUInt16LE(vn + 2);
    let aux = vn + buf.readUInt32LE(vn + 8);
    for (let k = 0; k < cnt; k++) {
      const name = cstr(buf, dynstr.offset + buf.readUInt32LE(aux + 8));
      if (name === 'GLIBC_2.38' || name === 'GLIBCXX_3.4.32') {
        if (name === 'GLIBC_2.38') new38 = buf.readUInt16LE(aux + 6);
        else cxx32 = buf.readUInt16LE(aux + 6);
        buf.writeUInt16LE(buf.readUInt16LE(aux + 4) | 0x2, aux + 4); // VER_FLG_WEAK
      }
      if (name === 'GLIBC_2.2.5') old225 = buf.readUInt16LE(aux + 6);
      aux += buf.readUInt32LE(aux + 12);
    }
    const next = buf.readUInt32LE(vn + 12);
    if (next === 0) break;
    vn += next;
  }
  if (new38 < 0 && cxx32 < 0) return 0;
  if (old225 < 0) throw new Error('no GLIBC_2.2.5 requirement to reuse');
  let rewritten = 0;
  const count = dynsym.size / 24;
  for (let i = 0; i < count; i++) {
    const sym = dynsym.offset + i * 24;
    const ver = versym.offset + i * 2;
    const v = buf.readUInt16LE(ver) & 0x7fff;
    if (v !== new38 && v !== cxx32) continue;
    const nameOff = buf.readUInt32LE(sym);
    const name = cstr(buf, dynstr.offset + nameOff);
    if (v === new38 && RENAMED.has(name)) {
      buf.writeUInt32LE(nameOff + '__isoc23_'.length, sym);
      buf.writeUInt16LE(old225, ver);
    } else if (v === cxx32 && WEAKENED.has(name)) {
      buf[sym + 4] = (2 << 4) | (buf[sym + 4] & 0xf); // STB_WEAK
    } else {
      throw new Error(`unexpected import ${name} needing a newer C/C++ runtime`);
    }
    rewritten++;
  }
  return rewritten;
}

export function ensureJazzerLoads() {
  const path = addonPath();
  const problem = loads(path);
  if (problem === null) return 'ok';
  if (!/GLIBC_2\.38|GLIBCXX_3\.4\.32/.test(problem))
    throw new Error(`the Jazzer.js addon does not load: ${problem}`);
  const buf = readFileSync(path);
  const n = patch(buf);
  if (n === 0) throw new Error('nothing to patch, yet the addon does not load');
  if (!existsSync(`${path}.orig`)) copyFileSync(path, `${path}.orig`);
  writeFileSync(`${path}.tmp`, buf);
  renameSync(`${path}.tmp`, path);
  const after = loads(path);
  if (after !== null) throw new Error(`the patched Jazzer.js addon still does not load: ${after}`);
  return `patched (${n} imports)`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`jazzer addon: ${ensureJazzerLoads()}`);
}
