/**
 * Distance kernels in WebAssembly SIMD (f32x4), assembled here from bytes so the project needs no wasm
 * toolchain. They compute exactly what the JS kernels of src/domain/vector.ts compute (four float32
 * partial sums over components 0-3, 4-7, ..., the tail added to the first, then (s0+s1)+(s2+s3)), only
 * several times faster, so both paths give bit-identical distances.
 *
 * Exports of an instance: `l2(rows, query, dim, count, out)` and `dot(rows, query, dim, count, out)`:
 * for `count` consecutive rows of `dim` float32 starting at byte `rows`, write the squared L2 distance
 * (resp. `1 - dot`) to the query at byte `query` into the float32 array at byte `out`.
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
const F32_LOAD = 0x2a;
const F32_STORE = 0x38;
const I32_CONST = 0x41;
const F32_CONST = 0x43;
const I32_GE_U = 0x4f;
const I32_ADD = 0x6a;
const I32_AND = 0x71;
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

// Parameters and locals of both functions.
const ROWS = 0; // byte address of the current row (advanced row by row)
const QUERY = 1;
const DIM = 2;
const COUNT = 3;
const OUT = 4;
const R = 5; // row index
const J = 6; // byte offset inside the row
const VEC_END = 7; // bytes covered by whole groups of 4 components
const ROW_BYTES = 8;
const ACC = 9; // v128: the four partial sums
const DIFF = 10; // v128 scratch (L2)
const SUM = 11; // f32: first partial sum plus the tail
const TMP = 12; // f32 scratch (L2 tail)

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

function body(l2: boolean): number[] {
  const get = (i: number): number[] => [LOCAL_GET, i];
  const set = (i: number): number[] => [LOCAL_SET, i];
  const addr = (base: number): number[] => [...get(base), ...get(J), I32_ADD];
  const vectorStep = l2
    ? [...addr(ROWS), ...V128_LOAD, 0, 0, ...addr(QUERY), ...V128_LOAD, 0, 0, ...F32X4_SUB, LOCAL_TEE, DIFF, ...get(DIFF), ...F32X4_MUL]
    : [...addr(ROWS), ...V128_LOAD, 0, 0, ...addr(QUERY), ...V128_LOAD, 0, 0, ...F32X4_MUL];
  const tailStep = l2
    ? [...addr(ROWS), F32_LOAD, 2, 0, ...addr(QUERY), F32_LOAD, 2, 0, F32_SUB, LOCAL_TEE, TMP, ...get(TMP), F32_MUL]
    : [...addr(ROWS), F32_LOAD, 2, 0, ...addr(QUERY), F32_LOAD, 2, 0, F32_MUL];
  const lane = (i: number): number[] => [...get(ACC), ...F32X4_EXTRACT_LANE, i];
  const code = [
    // rowBytes = dim << 2; vecEnd = (dim & -4) << 2
    ...get(DIM), I32_CONST, 2, I32_SHL, ...set(ROW_BYTES),
    ...get(DIM), I32_CONST, 0x7c, I32_AND, I32_CONST, 2, I32_SHL, ...set(VEC_END),
    BLOCK, VOID,
    LOOP, VOID,
    ...get(R), ...get(COUNT), I32_GE_U, BR_IF, 1,
    ...V128_CONST, ...new Array<number>(16).fill(0), ...set(ACC),
    I32_CONST, 0, ...set(J),
    BLOCK, VOID,
    LOOP, VOID,
    ...get(J), ...get(VEC_END), I32_GE_U, BR_IF, 1,
    ...vectorStep, ...get(ACC), ...F32X4_ADD, ...set(ACC),
    ...get(J), I32_CONST, 16, I32_ADD, ...set(J),
    BR, 0,
    END,
    END,
    ...lane(0), ...set(SUM),
    BLOCK, VOID,
    LOOP, VOID,
    ...get(J), ...get(ROW_BYTES), I32_GE_U, BR_IF, 1,
    ...tailStep, ...get(SUM), F32_ADD, ...set(SUM),
    ...get(J), I32_CONST, 4, I32_ADD, ...set(J),
    BR, 0,
    END,
    END,
    // out[r] = (sum + lane1) + (lane2 + lane3), or 1 - that for dot
    ...get(OUT), ...get(R), I32_CONST, 2, I32_SHL, I32_ADD,
    ...(l2 ? [] : [F32_CONST, 0x00, 0x00, 0x80, 0x3f]),
    ...get(SUM), ...lane(1), F32_ADD,
    ...lane(2), ...lane(3), F32_ADD,
    F32_ADD,
    ...(l2 ? [] : [F32_SUB]),
    F32_STORE, 2, 0,
    ...get(ROWS), ...get(ROW_BYTES), I32_ADD, ...set(ROWS),
    ...get(R), I32_CONST, 1, I32_ADD, ...set(R),
    BR, 0,
    END,
    END,
    END,
  ];
  const locals = vec([
    [4, I32],
    [2, V128],
    [2, F32],
  ]);
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

function assemble(): Uint8Array {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types = section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0x00]]));
  const imports = section(2, vec([[...name("env"), ...name("mem"), 0x02, 0x00, 0x01]]));
  const functions = section(3, vec([[0], [0]]));
  const exports = section(7, vec([[...name("l2"), 0x00, 0], [...name("dot"), 0x00, 1]]));
  const code = section(10, [...uleb(2), ...body(true), ...body(false)]);
  return new Uint8Array([...header, ...types, ...imports, ...functions, ...exports, ...code]);
}

export type ScanKernel = (rows: number, query: number, dim: number, count: number, out: number) => void;

export interface SimdKernels {
  readonly l2: ScanKernel;
  readonly dot: ScanKernel;
}

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
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}

const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;

/** The compiled module, or null when this runtime has no WebAssembly SIMD (callers fall back to JS). */
function simdModule(): object | null {
  if (compiled === undefined) {
    const bytes = assemble();
    compiled = wasmApi !== undefined && wasmApi.validate(bytes) ? new wasmApi.Module(bytes) : null;
  }
  return compiled;
}

/**
 * A WebAssembly memory of `initialPages` (64 KiB each) with the SIMD kernels bound to it, or undefined
 * when WebAssembly SIMD is unavailable.
 */
export function createSimdMemory(initialPages: number): { memory: WasmMemory; kernels: SimdKernels } | undefined {
  const module = simdModule();
  if (module === null || wasmApi === undefined) return undefined;
  const memory = new wasmApi.Memory({ initial: initialPages });
  const instance = new wasmApi.Instance(module, { env: { mem: memory } });
  return { memory, kernels: instance.exports as SimdKernels };
}

/** Whether the SIMD kernels can run here. */
export function simdAvailable(): boolean {
  return simdModule() !== null;
}
