/**
 * TLS and mutual TLS on the gRPC listener, with certificates re-read when their files change.
 *
 * grpc-js (1.14) updates a listening server's certificates through a CertificateProvider
 * (`experimental.createCertificateProviderServerCredentials`): each update becomes
 * `http2SecureServer.setSecureContext`, so new connections get the new certificate while open ones
 * keep theirs. Its own FileWatcherCertificateProvider re-reads the files on a timer but publishes
 * whatever it read: a half-written file or a key that does not match the certificate turns the
 * server's credentials invalid and every new connection is dropped until the next good read. The
 * provider here validates first (tls.createSecureContext with the key, certificate and CA together)
 * and keeps serving the last good set when the new files are bad, logging why.
 */
import { experimental, type ServerCredentials } from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import type { Logger } from "pino";
import { DEFAULT_FILE_POLL_MS, watchFiles, type WatchedFiles } from "./watched-files.js";

export interface TlsFiles {
  /** PEM certificate chain of the server (leaf first). */
  readonly certFile: string;
  /** PEM private key of that certificate. */
  readonly keyFile: string;
  /** PEM CA certificate(s): when set, every client must present a certificate signed by one of them (mTLS). */
  readonly clientCaFile?: string | undefined;
}

interface CertificateSet {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
}

/** Reads and validates the files. @throws Error naming the file or the mismatch (never printing key material). */
export function readCertificateSet(files: TlsFiles): CertificateSet {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error: unknown) {
      throw new Error(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  };
  const set: CertificateSet = {
    cert: read(files.certFile, "TLS certificate"),
    key: read(files.keyFile, "TLS private key"),
    ca: files.clientCaFile === undefined ? undefined : read(files.clientCaFile, "client CA certificate"),
  };
  try {
    // Parses all three and checks that the key belongs to the certificate (OpenSSL's own check).
    createSecureContext({ cert: set.cert, key: set.key, ...(set.ca ? { ca: set.ca } : {}) });
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`the TLS files ${[files.certFile, files.keyFile, files.clientCaFile].filter(Boolean).join(", ")} are not usable: ${reason}`);
  }
  if (set.ca !== undefined && !/-----BEGIN CERTIFICATE-----/.test(set.ca.toString("latin1"))) {
    throw new Error(`the client CA file ${files.clientCaFile} holds no PEM certificate`);
  }
  return set;
}

type IdentityListener = (update: experimental.IdentityCertificateUpdate | null) => void;
type CaListener = (update: experimental.CaCertificateUpdate | null) => void;

/** The files as a grpc-js CertificateProvider: validated sets only, the last good one kept. */
class ValidatedCertificateFiles implements experimental.CertificateProvider {
  #set: CertificateSet;
  readonly #identityListeners = new Set<IdentityListener>();
  readonly #caListeners = new Set<CaListener>();

  constructor(
    private readonly files: TlsFiles,
    private readonly logger: Logger,
  ) {
    this.#set = readCertificateSet(files);
  }

  /** Re-reads the files; publishes them when they are valid, else logs and keeps the current set. */
  refresh(): void {
    let set: CertificateSet;
    try {
      set = readCertificateSet(this.files);
    } catch (error: unknown) {
      this.logger.error(
        { err: error instanceof Error ? error.message : String(error) },
        "TLS files changed but are not usable: still serving the previous certificate",
      );
      return;
    }
    this.#set = set;
    this.logger.info({ certFile: this.files.certFile, clientCaFile: this.files.clientCaFile }, "TLS certificate reloaded");
    for (const listener of this.#identityListeners) listener(this.#identity());
    for (const listener of this.#caListeners) listener(this.#ca());
  }

  #identity(): experimental.IdentityCertificateUpdate {
    return { certificate: this.#set.cert, privateKey: this.#set.key };
  }

  #ca(): experimental.CaCertificateUpdate | null {
    return this.#set.ca === undefined ? null : { caCertificate: this.#set.ca };
  }

  // The first update is sent on the next tick: grpc-js registers its server's watcher only after
  // adding these listeners, and would miss an update sent at once (its connections dropped for good).
  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.add(listener);
    process.nextTick(() => this.#identityListeners.has(listener) && listener(this.#identity()));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.delete(listener);
  }

  addCaCertificateListener(listener: CaListener): void {
    this.#caListeners.add(listener);
    process.nextTick(() => this.#caListeners.has(listener) && listener(this.#ca()));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.#caListeners.delete(listener);
  }
}

export interface TlsCredentials {
  readonly credentials: ServerCredentials;
  /** Whether clients must present a certificate (mTLS). */
  readonly mutual: boolean;
  /** Re-reads the files now (SIGHUP). */
  reload(): void;
  /** Stops watching the files. */
  close(): void;
}

/**
 * Server credentials serving `files`, re-read when they change (looked at every `pollMs`).
 * @throws Error when the files cannot be read or do not make a usable certificate.
 */
export function createTlsCredentials(files: TlsFiles, logger: Logger, pollMs = DEFAULT_FILE_POLL_MS): TlsCredentials {
  const provider = new ValidatedCertificateFiles(files, logger);
  const mutual = files.clientCaFile !== undefined;
  // grpc-js 1.14 passes its first argument on as the identity provider and its second as the CA
  // provider (whatever the parameter names say): one object plays both roles here, and the CA
  // provider must be null without client authentication (it turns `requestCert` on).
  const credentials = experimental.createCertificateProviderServerCredentials(provider, mutual ? provider : null, mutual);
  const watched: WatchedFiles = watchFiles(
    [files.certFile, files.keyFile, ...(files.clientCaFile === undefined ? [] : [files.clientCaFile])],
    () => provider.refresh(),
    pollMs,
  );
  return { credentials, mutual, reload: () => watched.reload(), close: () => watched.close() };
}
