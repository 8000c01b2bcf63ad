/**
 * Distance kernels in WebAssembly SIMD (f32x4), assembled here from bytes so the project needs no wasm
 * toolchain. They compute exactly what the JS kernels of src/domain/vector.ts compute (four float32
 * partial sums over components 0-3, 4-7, ..., the tail added to the first, then (s0+s1)+(s2+s3)), only
 * several times faster, so both paths give bit-identical distances.
 *
 * A module is assembled for one dimension (the row size is a constant and the loop over the components
 * is unrolled). Exports of an instance, each
 * `(rows, query, count, out, picked, threshold) -> picks`: for `count` consecutive rows starting at byte
 * `rows`, write the distance to the query at byte `query` into the float32 array at byte `out`, and the
 * index of every row whose distance is at most `threshold` (every row when `threshold` is NaN) into the
 * int32 array at byte `picked` (in no particular order); return how many were picked. `l2`: squared
 * Euclidean distance; `dot`: `1 - dot` (IP, and COSINE over normalised rows).
 *
 * Four rows are processed together, one from each quarter of the range: their partial sums are
 * independent, so the additions overlap instead of waiting on one another (one row's sum is a chain of
 * dim/4 dependent additions), and each quarter is read as one sequential stream, which the hardware
 * prefetchers follow (four rows side by side in one page measured 1.3x slower beyond the caches).
 */

// Opcodes (https://webassembly.github.io/spec/core/binary/instructions.html).
const BLOCK = 0x02;
const LOOP = 0x03;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const VOID = 0x40;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_STORE = 0x36;
const F32_LOAD = 0x2a;
const F32_STORE = 0x38;
const I32_CONST = 0x41;
const F32_CONST = 0x43;
const I32_LT_U = 0x49;
const I32_GE_U = 0x4f;
const F32_NE = 0x5c;
const F32_LE = 0x5f;
const I32_ADD = 0x6a;
const I32_MUL = 0x6c;
const I32_SHR_U = 0x76;
const I32_OR = 0x72;
const I32_SHL = 0x74;
const F32_ADD = 0x92;
const F32_SUB = 0x93;
const F32_MUL = 0x94;
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
// SIMD instructions: prefix 0xfd, then the opcode as unsigned LEB128.
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00];
const V128_CONST = [SIMD, 0x0c];
const F32X4_EXTRACT_LANE = [SIMD, 0x1f];
const F32X4_ADD = [SIMD, 0xe4, 0x01];
const F32X4_SUB = [SIMD, 0xe5, 0x01];
const F32X4_MUL = [SIMD, 0xe6, 0x01];

// Parameters.
const ROWS = 0; // byte address of the current group of rows (advanced group by group)
const QUERY = 1;
const COUNT = 2;
const OUT = 3;
const PICKED = 4;
const THRESHOLD = 5; // f32
// Locals.
const R = 6; // row index (in the first quarter while four rows are processed at once)
const J = 7; // byte offset inside the rows (unrolled loop)
const N = 8; // rows picked so far
const ALL = 9; // 1 when the threshold is NaN (pick every row)
const QUARTER = 10; // rows in each quarter of the range
const QUARTER_BYTES = 11;
const QBASE = 12; // address of the query components being read
/** Rows processed together: one from each quarter of the range. */
const GROUP = 4;
const P = 13; // 13 .. 13+GROUP-1: address of the components being read, in each row of the group
const ACC = P + GROUP; // v128, GROUP of them: the four partial sums of each row of the group
const QV = ACC + GROUP; // v128: four query components
const DIFF = QV + 1; // v128 scratch (L2)
const SUM = DIFF + 1; // f32: first partial sum plus the tail
const TMP = SUM + 1; // f32 scratch (L2 tail)
const D = TMP + 1; // f32: the distance

/** Groups of 4 components per iteration of the unrolled loop. */
const UNROLL = 4;

export type KernelMetric = "l2" | "dot";

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128 (i32.const immediates). */
function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
}

const get = (i: number): number[] => [LOCAL_GET, i];
const set = (i: number): number[] => [LOCAL_SET, i];
const i32 = (value: number): number[] => [I32_CONST, ...sleb(value)];
/** A memory immediate: alignment hint 1 byte (rows need not be aligned), constant byte offset. */
const at = (offset: number): number[] => [0, ...uleb(offset)];

/**
 * Code for one group of `g` rows: row `R` at `ROWS`, and (g = 4) rows `R + k * QUARTER` at
 * `ROWS + k * QUARTER_BYTES`, each read sequentially (four sequential streams, which the hardware
 * prefetchers follow, rather than four rows side by side in one page); then advances ROWS and R by a row.
 */
function group(metric: KernelMetric, dim: number, g: number): number[] {
  const groups = Math.floor(dim / 4);
  const iterations = Math.floor(groups / UNROLL);
  const consumed = iterations * UNROLL * 16;
  const code: number[] = [];
  const rows = Array.from({ length: g }, (_, k) => k);
  code.push(...get(ROWS), ...set(P), ...get(QUERY), ...set(QBASE));
  for (const k of rows.slice(1)) code.push(...get(P + k - 1), ...get(QUARTER_BYTES), I32_ADD, ...set(P + k));
  for (const k of rows) code.push(...V128_CONST, ...new Array<number>(16).fill(0), ...set(ACC + k));
  // acc[k] += step(components at P[k] + offset, query at QBASE + offset)
  const step = (offset: number): number[] => {
    const out = [...get(QBASE), ...V128_LOAD, ...at(offset), ...set(QV)];
    for (const k of rows) {
      out.push(...get(P + k), ...V128_LOAD, ...at(offset));
      if (metric === "l2") out.push(...get(QV), ...F32X4_SUB, LOCAL_TEE, DIFF, ...get(DIFF), ...F32X4_MUL);
      else out.push(...get(QV), ...F32X4_MUL);
      out.push(...get(ACC + k), ...F32X4_ADD, ...set(ACC + k));
    }
    return out;
  };
  const advance = (pointer: number, bytes: number): number[] => [...get(pointer), ...i32(bytes), I32_ADD, ...set(pointer)];
  if (iterations > 0) {
    code.push(...i32(0), ...set(J));
    code.push(LOOP, VOID);
    for (let u = 0; u < UNROLL; u++) code.push(...step(u * 16));
    for (const k of rows) code.push(...advance(P + k, UNROLL * 16));
    code.push(...advance(QBASE, UNROLL * 16));
    code.push(...get(J), ...i32(UNROLL * 16), I32_ADD, LOCAL_TEE, J, ...i32(consumed), I32_LT_U, BR_IF, 0, END);
  }
  // The pointers have advanced by `consumed` bytes.
  for (let c = iterations * UNROLL; c < groups; c++) code.push(...step(c * 16 - consumed));
  const lane = (k: number, i: number): number[] => [...get(ACC + k), ...F32X4_EXTRACT_LANE, i];
  for (const k of rows) {
    // The tail, added to the first partial sum.
    code.push(...lane(k, 0), ...set(SUM));
    for (let c = groups * 4; c < dim; c++) {
      const rowComponent = [...get(P + k), F32_LOAD, ...at(c * 4 - consumed)];
      const queryComponent = [...get(QBASE), F32_LOAD, ...at(c * 4 - consumed)];
      if (metric === "l2") code.push(...rowComponent, ...queryComponent, F32_SUB, LOCAL_TEE, TMP, ...get(TMP), F32_MUL);
      else code.push(...rowComponent, ...queryComponent, F32_MUL);
      code.push(...get(SUM), F32_ADD, ...set(SUM));
    }
    // d = (sum + lane1) + (lane2 + lane3), or 1 - that for dot
    if (metric !== "l2") code.push(F32_CONST, 0x00, 0x00, 0x80, 0x3f);
    code.push(...get(SUM), ...lane(k, 1), F32_ADD, ...lane(k, 2), ...lane(k, 3), F32_ADD, F32_ADD);
    if (metric !== "l2") code.push(F32_SUB);
    code.push(...set(D));
    // row = R + k * QUARTER; out[row] = d; picked[N] = row; N += d <= threshold || all
    const row = k === 0 ? get(R) : [...get(R), ...get(QUARTER), ...i32(k), I32_MUL, I32_ADD];
    code.push(...get(OUT), ...row, ...i32(2), I32_SHL, I32_ADD, ...get(D), F32_STORE, ...at(0));
    code.push(...get(PICKED), ...get(N), ...i32(2), I32_SHL, I32_ADD, ...row, I32_STORE, ...at(0));
    code.push(...get(N), ...get(D), ...get(THRESHOLD), F32_LE, ...get(ALL), I32_OR, I32_ADD, ...set(N));
  }
  code.push(...advance(ROWS, dim * 4), ...advance(R, 1));
  return code;
}

function body(metric: KernelMetric, dim: number): number[] {
  const code = [
    ...get(THRESHOLD), ...get(THRESHOLD), F32_NE, ...set(ALL),
    // quarter = count >> 2; quarterBytes = quarter * rowBytes
    ...get(COUNT), ...i32(2), I32_SHR_U, LOCAL_TEE, QUARTER, ...i32(dim * 4), I32_MUL, ...set(QUARTER_BYTES),
    // Rows R, R + quarter, R + 2 quarter, R + 3 quarter together, for R in the first quarter.
    BLOCK, VOID, LOOP, VOID,
    ...get(R), ...get(QUARTER), I32_GE_U, BR_IF, 1,
    ...group(metric, dim, GROUP),
    BR, 0, END, END,
    // Then the last count % 4 rows one by one: ROWS += 3 quarterBytes; R = 4 quarter.
    ...get(ROWS), ...get(QUARTER_BYTES), ...i32(3), I32_MUL, I32_ADD, ...set(ROWS),
    ...get(QUARTER), ...i32(2), I32_SHL, ...set(R),
    BLOCK, VOID, LOOP, VOID,
    ...get(R), ...get(COUNT), I32_GE_U, BR_IF, 1,
    ...group(metric, dim, 1),
    BR, 0, END, END,
    ...get(N),
    END,
  ];
  const locals = vec([
    [ACC - R, I32],
    [SUM - ACC, V128],
    [D + 1 - SUM, F32],
  ]);
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

const METRICS: readonly KernelMetric[] = ["l2", "dot"];

/** The most pages a shared memory may grow to (its maximum must be given): 4 GiB, wasm32's limit. */
export const SHARED_MAX_PAGES = 65536;

/** A module importing a memory of at least one page, or (shared) a shared memory of up to SHARED_MAX_PAGES. */
function assemble(dim: number, shared: boolean): Uint8Array {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const params = vec([[I32], [I32], [I32], [I32], [I32], [F32]]);
  const types = section(1, vec([[0x60, ...params, ...vec([[I32]])]]));
  const limits = shared ? [0x03, 0x01, ...uleb(SHARED_MAX_PAGES)] : [0x00, 0x01];
  const imports = section(2, vec([[...name("env"), ...name("mem"), 0x02, ...limits]]));
  const functions = section(3, vec(METRICS.map(() => [0])));
  const exports = section(7, vec(METRICS.map((m, i) => [...name(m), 0x00, i])));
  const code = section(10, [...uleb(METRICS.length), ...METRICS.flatMap((m) => body(m, dim))]);
  return new Uint8Array([...header, ...types, ...imports, ...functions, ...exports, ...code]);
}

export type ScanKernel = (rows: number, query: number, count: number, out: number, picked: number, threshold: number) => number;

export type SimdKernels = Readonly<Record<KernelMetric, ScanKernel>>;

/** The part of WebAssembly.Memory used here. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}

// The project compiles without the DOM lib, whose types describe the WebAssembly API; these are the
// few members used.
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}

const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Compiled modules by dimension and sharing; null when this runtime cannot run them. */
const compiled = new Map<string, object | null>();

/**
 * The module for `dim` (importing a shared memory when `shared`), or null when this runtime has no
 * WebAssembly SIMD, or no shared memories (callers fall back).
 */
function simdModule(dim: number, shared: boolean): object | null {
  const key = `${dim}:${shared}`;
  let module = compiled.get(key);
  if (module === undefined) {
    const bytes = assemble(dim, shared);
    module = wasmApi !== undefined && wasmApi.validate(bytes) ? new wasmApi.Module(bytes) : null;
    compiled.set(key, module);
  }
  return module;
}

/**
 * A WebAssembly memory of `initialPages` (64 KiB each) with the SIMD kernels for rows of `dim`
 * components bound to it, or undefined when WebAssembly SIMD is unavailable.
 */
export function createSimdMemory(dim: number, initialPages: number): SimdMemory | undefined {
  if (wasmApi === undefined) return undefined;
  // Shared when the runtime allows it, so that other threads can scan the same rows (scan-threads.ts).
  const sharedModule = simdModule(dim, true);
  if (sharedModule !== null) {
    try {
      const memory = new wasmApi.Memory({ initial: initialPages, maximum: SHARED_MAX_PAGES, shared: true });
      const instance = new wasmApi.Instance(sharedModule, { env: { mem: memory } });
      return { memory, kernels: instance.exports as SimdKernels, shared: { module: sharedModule } };
    } catch {
      // No shared memory of that size here (address space limits): a memory of this thread only.
    }
  }
  const module = simdModule(dim, false);
  if (module === null) return undefined;
  const memory = new wasmApi.Memory({ initial: initialPages });
  const instance = new wasmApi.Instance(module, { env: { mem: memory } });
  return { memory, kernels: instance.exports as SimdKernels, shared: undefined };
}

/** A WebAssembly memory with the kernels bound to it. */
export interface SimdMemory {
  readonly memory: WasmMemory;
  readonly kernels: SimdKernels;
  /** For a shared memory: the compiled module, which other threads instantiate over the same memory. */
  readonly shared: { readonly module: object } | undefined;
}

/** Whether the SIMD kernels can run here. */
export function simdAvailable(): boolean {
  return simdModule(4, false) !== null;
}
