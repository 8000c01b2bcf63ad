/**
 * Certificates made at test time (nothing secret is committed): a CA, a server certificate for
 * 127.0.0.1 / localhost signed by it, and client certificates signed by it or by another CA.
 * EC P-256 keys through WebCrypto and @peculiar/x509, so making a set takes milliseconds.
 */
// @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata polyfill.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export interface Pem {
  readonly cert: string;
  readonly key: string;
}

export interface Authority extends Pem {
  /** Issues a leaf certificate (server: SANs 127.0.0.1 and localhost; client: clientAuth). */
  issue(commonName: string, usage: "server" | "client", options?: { notAfter?: Date }): Promise<Pem>;
}

let serial = 1;

async function keyPem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  return `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString("base64").replace(/(.{64})/g, "$1\n").trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

function validity(notAfter?: Date): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - 60_000), notAfter: notAfter ?? new Date(now + 24 * 3600_000) };
}

/** A new certificate authority (self-signed). */
export async function createAuthority(commonName: string): Promise<Authority> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]));
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: (serial++).toString(16).padStart(2, "0"),
    name: `CN=${commonName}`,
    ...validity(),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const authority: Authority = {
    cert: caCert.toString("pem"),
    key: await keyPem(keys),
    async issue(leafName, usage, options = {}) {
      const leafKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]));
      const extensions: x509.Extension[] = [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
        new x509.ExtendedKeyUsageExtension([usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
        await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ];
      if (usage === "server") {
        extensions.push(
          new x509.SubjectAlternativeNameExtension([
            { type: "ip", value: "127.0.0.1" },
            { type: "dns", value: "localhost" },
          ]),
        );
      }
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(2, "0"),
        subject: `CN=${leafName}`,
        issuer: caCert.subject,
        ...validity(options.notAfter),
        publicKey: leafKeys.publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: ALGORITHM,
        extensions,
      });
      return { cert: leaf.toString("pem"), key: await keyPem(leafKeys) };
    },
  };
  return authority;
}
