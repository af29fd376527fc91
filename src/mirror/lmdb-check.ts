import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { gatewayError, type GatewayError } from '../errors.ts';

/**
 * Cheap validation of an LMDB data file (`consents.mdb`) before lmdb-js maps it (issue 12: a
 * damaged file killed the process with SIGSEGV/SIGBUS at start, exit 139/135). LMDB trusts its
 * file: a bad meta page, a root page number past the end of a truncated file or a garbage page
 * where a B-tree root should be are dereferenced in mapped memory, and the process dies before
 * any error can be answered. This reads, with pread, a handful of pages (both meta pages, the
 * root pages they name and the named databases' roots listed in the main database) and refuses
 * what LMDB would crash on or silently misread.
 *
 * Layout (lmdb-js 3.x, LMDB "master3", data version 2, 64-bit): a page starts with a 24-byte
 * header (pgno u64, txnid u64, pad u16, flags u16, lower u16, upper u16); pages 0 and 1 are meta
 * pages (flag P_META) holding, after the header, magic 0xBEEFC0DE, version, address, mapsize,
 * two database records (free list, main: 48 bytes each, the first one's pad is the page size),
 * last page number and the transaction id that wrote it. LMDB uses the meta page with the higher
 * transaction id (mdb_pick_meta). Source: node_modules/lmdb/dependencies/lmdb/libraries/liblmdb/mdb.c
 * (MDB_page_header, MDB_meta, MDB_db, MDB_node, mdb_env_read_header).
 *
 * Detected (GW_ERR_STORE_CORRUPT, naming the file and what is wrong): a file shorter than its two
 * meta pages; a meta page without the P_META flag, with a wrong magic or data version, an
 * impossible page size (not a power of two in 512..65536, or the two metas disagree), or a last
 * page number below 1; a file shorter than the pages the newest meta says are in use (truncated:
 * LMDB would take SIGBUS); a free-list, main or named-database root that is out of range, does not
 * carry its own page number, is not a branch or leaf page, was written by a transaction newer
 * than the meta, or whose shape disagrees with its database record (a leaf root of a tree deeper
 * than 1, a leaf root not holding every entry: garbage or a page from elsewhere); a main-database
 * leaf whose node table points outside the page.
 * Not detected: damage below the roots (a flipped byte in an inner branch or leaf page, an
 * overflow page, a value's bytes), which LMDB finds (or crashes on) only when a read walks there
 * (a full walk at every start would cost time proportional to the mirror). A zero-length file is
 * what a crash during the very first open leaves (LMDB writes the meta pages after creating the
 * file) and is opened as a new, empty environment, as LMDB does.
 * @param file path of the data file; a missing file is fine (a first start creates it)
 * @throws GW_ERR_STORE_CORRUPT (503) when the file would crash or mislead LMDB
 */
export function checkLmdbFile(file: string): void {
  let fd: number;
  try { fd = openSync(file, 'r'); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return;
    const read = (pos: number, len: number): Buffer => {
      const buf = Buffer.alloc(len);
      const n = readSync(fd, buf, 0, len, pos);
      return buf.subarray(0, n);
    };
    const corrupt = (what: string): GatewayError => gatewayError('GW_ERR_STORE_CORRUPT', [file, what]);
    const meta0 = parseMeta(read(0, META_END), 0, corrupt);
    const meta1 = parseMeta(read(meta0.pageSize, META_END), 1, corrupt);
    if (meta1.pageSize !== meta0.pageSize) throw corrupt(`the meta pages disagree on the page size (${meta0.pageSize}, ${meta1.pageSize})`);
    const meta = meta0.txnid >= meta1.txnid ? meta0 : meta1; // mdb_pick_meta
    const psize = meta.pageSize;
    const inUse = (meta.lastPage + 1n) * BigInt(psize);
    if (BigInt(size) < inUse) {
      throw corrupt(`truncated: ${size} bytes, but meta page ${meta.index} (transaction ${meta.txnid}) uses ${meta.lastPage + 1n} pages of ${psize} bytes (${inUse} bytes)`);
    }
    const page = (pgno: bigint): Buffer => read(Number(pgno) * psize, psize);
    const checkRoot = (name: string, db: DbRecord): void => {
      if (db.root === P_INVALID) {
        if (db.entries !== 0n) throw corrupt(`${name} database holds ${db.entries} entries but has no root page`);
        return;
      }
      if (db.root < 2n || db.root > meta.lastPage) throw corrupt(`${name} database root page ${db.root} is outside pages 2..${meta.lastPage}`);
      const p = page(db.root);
      const pgno = p.readBigUInt64LE(0);
      const txnid = p.readBigUInt64LE(8);
      const flags = p.readUInt16LE(18);
      if (pgno !== db.root) throw corrupt(`${name} database root page ${db.root} carries page number ${pgno}`);
      if ((flags & (P_BRANCH | P_LEAF)) === 0 || (flags & (P_META | P_OVERFLOW)) !== 0) throw corrupt(`${name} database root page ${db.root} is not a branch or leaf page (flags 0x${flags.toString(16)})`);
      if (txnid > meta.txnid) throw corrupt(`${name} database root page ${db.root} was written by transaction ${txnid}, after the meta page's ${meta.txnid}`);
      // the tree's shape must match its record: a leaf root is a depth-1 tree holding every entry
      const isLeaf = (flags & P_LEAF) !== 0;
      if (isLeaf !== (db.depth === 1)) throw corrupt(`${name} database root page ${db.root} is a ${isLeaf ? 'leaf' : 'branch'} page but the tree's depth is ${db.depth}`);
      const keys = p.readUInt16LE(20) >> 1;
      if (isLeaf && (db.flags & MDB_DUPSORT) === 0 && BigInt(keys) !== db.entries) throw corrupt(`${name} database root page ${db.root} holds ${keys} entries, the database ${db.entries}`);
      if (name === 'main' && isLeaf) {
        for (const [sub, subDb] of namedDatabases(p, psize, corrupt)) checkRoot(`named "${sub}"`, subDb);
      }
    };
    checkRoot('free-list', meta.free);
    checkRoot('main', meta.main);
  } finally {
    closeSync(fd);
  }
}

/** Size of the page header (MDB_page_header) and offsets of MDB_meta's fields after it. */
const PAGEHDRSZ = 24;
const META_END = PAGEHDRSZ + 4 + 4 + 8 + 8 + 2 * 48 + 8 + 8;
const MDB_MAGIC = 0xbeefc0de;
const MDB_DATA_VERSION = 2;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_OVERFLOW = 0x04;
const P_META = 0x08;
const F_SUBDATA = 0x02;
const MDB_DUPSORT = 0x04;
const P_INVALID = 0xffff_ffff_ffff_ffffn;

interface DbRecord { pad: number; flags: number; depth: number; entries: bigint; root: bigint }
interface Meta { index: number; pageSize: number; free: DbRecord; main: DbRecord; lastPage: bigint; txnid: bigint }

function parseDb(b: Buffer, at: number): DbRecord {
  return { pad: b.readUInt32LE(at), flags: b.readUInt16LE(at + 4), depth: b.readUInt16LE(at + 6), entries: b.readBigUInt64LE(at + 32), root: b.readBigUInt64LE(at + 40) };
}

function parseMeta(b: Buffer, index: number, corrupt: (what: string) => GatewayError): Meta {
  const at = `meta page ${index}`;
  if (b.length < META_END) throw corrupt(`${at}: the file ends inside it (${b.length} of ${META_END} bytes)`);
  const flags = b.readUInt16LE(18);
  if ((flags & P_META) === 0) throw corrupt(`${at}: not flagged as a meta page (flags 0x${flags.toString(16)})`);
  const magic = b.readUInt32LE(PAGEHDRSZ);
  if (magic !== MDB_MAGIC) throw corrupt(`${at}: magic 0x${magic.toString(16)}, not 0x${MDB_MAGIC.toString(16)} (not an LMDB file, or overwritten)`);
  const version = b.readUInt32LE(PAGEHDRSZ + 4) & 0xffff;
  if (version !== MDB_DATA_VERSION) throw corrupt(`${at}: data version ${version}, this lmdb reads version ${MDB_DATA_VERSION}`);
  const free = parseDb(b, PAGEHDRSZ + 24);
  const main = parseDb(b, PAGEHDRSZ + 72);
  const pageSize = free.pad; // mm_psize is mm_dbs[FREE_DBI].md_pad
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw corrupt(`${at}: page size ${pageSize} is not a power of two in 512..65536`);
  const lastPage = b.readBigUInt64LE(PAGEHDRSZ + 120);
  const txnid = b.readBigUInt64LE(PAGEHDRSZ + 128);
  if (lastPage < 1n) throw corrupt(`${at}: last page ${lastPage} is below the meta pages`);
  return { index, pageSize, free, main, lastPage, txnid };
}

/** The named databases (F_SUBDATA nodes) of a main-database leaf page, with their records. */
function namedDatabases(p: Buffer, psize: number, corrupt: (what: string) => GatewayError): Array<[string, DbRecord]> {
  const lower = p.readUInt16LE(20);
  const upper = p.readUInt16LE(22);
  if (lower > upper || PAGEHDRSZ + upper > psize) throw corrupt(`main database root page: free-space bounds ${lower}..${upper} do not fit a ${psize}-byte page`);
  const out: Array<[string, DbRecord]> = [];
  for (let i = 0; i < lower >> 1; i++) {
    const node = p.readUInt16LE(PAGEHDRSZ + 2 * i) + PAGEHDRSZ;
    if (node + 8 > psize) throw corrupt(`main database root page: node ${i} at byte ${node} is outside the page`);
    const dataSize = p.readUInt16LE(node) | (p.readUInt16LE(node + 2) << 16);
    const flags = p.readUInt16LE(node + 4);
    const keySize = p.readUInt16LE(node + 6);
    if (node + 8 + keySize + ((flags & F_SUBDATA) ? 48 : 0) > psize) throw corrupt(`main database root page: node ${i} runs past the page`);
    if ((flags & F_SUBDATA) === 0 || dataSize !== 48) continue;
    out.push([p.toString('latin1', node + 8, node + 8 + keySize).replace(/\0+$/, ''), parseDb(p, node + 8 + keySize)]);
  }
  return out;
}
