/**
 * The descriptor set buf builds (src/gen/vecrec.binpb, every file with its imports and comments),
 * indexed for reflection: by file name and by fully-qualified symbol. Each file's FileDescriptorProto
 * bytes are kept exactly as buf wrote them (sliced from the set, never re-encoded), so reflection
 * clients see the same absolute type names and comments protoc/buf would give them.
 */
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";

export interface DescriptorFile {
  /** e.g. `vecrec/v1/vecrec.proto`. */
  readonly name: string;
  /** The serialized FileDescriptorProto, byte for byte as in the set. */
  readonly bytes: Uint8Array;
  readonly dependencies: readonly string[];
}

export interface DescriptorPool {
  /** Fully-qualified names of the services, in file order. */
  readonly services: readonly string[];
  fileByName(name: string): DescriptorFile | undefined;
  /** The file defining a service, method, message (nested too), enum, enum value, field or oneof. */
  fileContainingSymbol(symbol: string): DescriptorFile | undefined;
  /** Fully-qualified names of every message type (to answer extension queries). */
  hasMessage(name: string): boolean;
  /** Field number -> field name (as in the .proto) of the request message of `method` (`pkg.Service.Method`). */
  requestFieldNames(method: string): ReadonlyMap<number, string> | undefined;
  /** `file` first, then its transitive dependencies (each once), skipping names in `exclude`. */
  withDependencies(file: DescriptorFile, exclude?: ReadonlySet<string>): DescriptorFile[];
}

// The subset of descriptor.proto's shapes this module reads (protobufjs decodes to these).
interface NamedProto {
  name?: string;
}
interface EnumProto extends NamedProto {
  value?: NamedProto[];
}
interface FieldProto extends NamedProto {
  number?: number;
}
interface MethodProto extends NamedProto {
  inputType?: string;
}
interface MessageProto extends NamedProto {
  field?: FieldProto[];
  oneofDecl?: NamedProto[];
  nestedType?: MessageProto[];
  enumType?: EnumProto[];
  extension?: NamedProto[];
}
interface ServiceProto extends NamedProto {
  method?: MethodProto[];
}
interface FileProto extends NamedProto {
  package?: string;
  dependency?: string[];
  messageType?: MessageProto[];
  enumType?: EnumProto[];
  service?: ServiceProto[];
  extension?: NamedProto[];
}

/** Splits a serialized FileDescriptorSet into its files' raw bytes (field 1, repeated bytes). */
function splitFileDescriptorSet(set: Uint8Array): Uint8Array[] {
  const reader = protobuf.Reader.create(set);
  const files: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 2) files.push(reader.bytes());
    else reader.skipType(tag & 7);
  }
  return files;
}

/**
 * Indexes a serialized FileDescriptorSet.
 * @throws Error when the set is malformed or two files define the same symbol.
 */
export function createDescriptorPool(set: Uint8Array): DescriptorPool {
  const files = new Map<string, DescriptorFile>();
  const symbols = new Map<string, DescriptorFile>();
  const messages = new Set<string>();
  const services: string[] = [];
  const fieldNames = new Map<string, Map<number, string>>();
  const inputTypes = new Map<string, string>();

  for (const bytes of splitFileDescriptorSet(set)) {
    const proto = descriptor.FileDescriptorProto.decode(bytes) as unknown as FileProto;
    const file: DescriptorFile = { name: proto.name ?? "", bytes, dependencies: proto.dependency ?? [] };
    files.set(file.name, file);
    const add = (name: string): void => {
      const existing = symbols.get(name);
      if (existing && existing !== file) throw new Error(`symbol ${name} is defined in ${existing.name} and ${file.name}`);
      symbols.set(name, file);
    };
    const scope = (parent: string, name: string | undefined): string => (parent ? `${parent}.${name ?? ""}` : (name ?? ""));
    const addEnum = (parent: string, e: EnumProto): void => {
      add(scope(parent, e.name));
      // Enum values are scoped like siblings of their enum (C++ scoping rules).
      for (const v of e.value ?? []) add(scope(parent, v.name));
    };
    const addMessage = (parent: string, m: MessageProto): void => {
      const name = scope(parent, m.name);
      add(name);
      messages.add(name);
      fieldNames.set(name, new Map((m.field ?? []).map((f) => [f.number ?? 0, f.name ?? ""])));
      for (const f of m.field ?? []) add(scope(name, f.name));
      for (const o of m.oneofDecl ?? []) add(scope(name, o.name));
      for (const x of m.extension ?? []) add(scope(name, x.name));
      for (const n of m.nestedType ?? []) addMessage(name, n);
      for (const e of m.enumType ?? []) addEnum(name, e);
    };
    const pkg = proto.package ?? "";
    for (const m of proto.messageType ?? []) addMessage(pkg, m);
    for (const e of proto.enumType ?? []) addEnum(pkg, e);
    for (const x of proto.extension ?? []) add(scope(pkg, x.name));
    for (const s of proto.service ?? []) {
      const name = scope(pkg, s.name);
      add(name);
      services.push(name);
      for (const m of s.method ?? []) {
        add(scope(name, m.name));
        if (m.inputType !== undefined) inputTypes.set(scope(name, m.name), m.inputType.replace(/^\./, ""));
      }
    }
  }

  return {
    services,
    fileByName: (name) => files.get(name),
    fileContainingSymbol: (symbol) => symbols.get(symbol.startsWith(".") ? symbol.slice(1) : symbol),
    hasMessage: (name) => messages.has(name.startsWith(".") ? name.slice(1) : name),
    requestFieldNames(method) {
      const input = inputTypes.get(method);
      return input === undefined ? undefined : fieldNames.get(input);
    },
    withDependencies(file, exclude = new Set()) {
      const out: DescriptorFile[] = [file];
      const seen = new Set<string>([file.name]);
      const queue = [...file.dependencies];
      while (queue.length > 0) {
        const name = queue.shift() as string;
        if (seen.has(name)) continue;
        seen.add(name);
        const dep = files.get(name);
        if (!dep) continue;
        if (!exclude.has(name)) out.push(dep);
        queue.push(...dep.dependencies);
      }
      return out;
    },
  };
}
