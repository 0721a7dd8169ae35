/**
 * TLS: the `security` option against a TLS-only `dask scheduler` + `dask worker` (certificates made here with
 * openssl: one CA, one certificate/key for scheduler, worker and client), and on a temporary LocalCluster.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flow, StateType } from "../../src/index.ts";
import { DaskTaskRunner, type DaskSecurity, getDaskClient } from "../../src/dask/index.ts";
import { fanOut, inc } from "./tasks.ts";
import { type TestCluster, markProcesses, startCluster, waitForNoMarked } from "./fixtures.ts";

const mark = markProcesses();
const dir = mkdtempSync(join(tmpdir(), "daskflow-tls-"));
const REQUIRE = { DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION: "True" };

/** A CA and one certificate it signed (for 127.0.0.1, server and client use); returns the paths. */
function makeCertificates(name: string): DaskSecurity {
  const at = (f: string) => join(dir, `${name}-${f}`);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", at("ca.key"), "-out", at("ca.pem"), "-days", "2", "-subj", `/CN=${name} test CA`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  openssl("req", ...ec, "-keyout", at("node.key"), "-out", at("node.csr"), "-subj", "/CN=dask-node");
  writeFileSync(at("ext.cnf"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
  openssl("x509", "-req", "-in", at("node.csr"), "-CA", at("ca.pem"), "-CAkey", at("ca.key"), "-CAcreateserial",
    "-out", at("node.pem"), "-days", "2", "-extfile", at("ext.cnf"));
  return { caFile: at("ca.pem"), certFile: at("node.pem"), keyFile: at("node.key") };
}

/**
 * A TLS connection that trusts the cluster's CA but shows no certificate of its own: what the scheduler answers
 * (Node's error code; "accepted" would mean it let the client in).
 */
function connectWithoutCertificate(address: string, caFile: string): Promise<string> {
  const [host, port] = address.replace("tls://", "").split(":") as [string, string];
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port), ca: readFileSync(caFile), checkServerIdentity: () => undefined });
    const timer = setTimeout(() => finish("no answer within 10 s"), 10_000);
    const finish = (outcome: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    socket.on("error", (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    // Under TLS 1.3 the server checks the client's certificate after the handshake: wait for its verdict.
    socket.on("secureConnect", () => setTimeout(() => finish("accepted"), 2000));
    socket.on("close", () => finish("closed"));
  });
}

const security = makeCertificates("cluster");
// The workers here share this machine's files: TLS is tested without code shipping (tasks that submit tasks from a
// shipped copy hit a shipping bug of their own, see test/multihost/multihost.test.ts).
const local = { shipCode: false } as const;
const tlsArgs = ["--tls-ca-file", security.caFile, "--tls-cert", security.certFile, "--tls-key", security.keyFile!];
let cluster: TestCluster;
before(async () => {
  cluster = await startCluster([{ nthreads: 2, extra: tlsArgs, env: REQUIRE }], REQUIRE, ["--protocol", "tls", ...tlsArgs]);
});
after(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("the TLS-only scheduler listens on tls://", () => {
  assert.match(cluster.address, /^tls:\/\/127\.0\.0\.1:\d+$/);
});

test("a flow runs on a TLS-only scheduler through `address: tls://…` with `security`, nested submits included", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address, security, ...local }) }, async () => {
    const values = await Promise.all(inc.map([1, 2, 3]).map((x) => x.result()));
    // A task that submits tasks reaches the TLS scheduler from its worker, with the worker's credentials.
    const nested = await fanOut.submit(2).result();
    const client = await getDaskClient();
    try {
      return { values, nested: nested.children.length, sum: await client.submit<number>("operator.add", [20, 22]) };
    } finally {
      await client.close();
    }
  });
  assert.deepEqual(await f(), { values: [2, 3, 4], nested: 2, sum: 42 });
});

test("a runner without certificates is refused with an error that names the `security` option, at once", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address, clientKwargs: { timeout: 5 } }) }, async () => inc.submit(1).result());
  const started = Date.now();
  const state = await f.returnState();
  assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
  assert.equal(state.type, StateType.CRASHED);
  assert.match(state.message ?? "", /speaks TLS and this client has no certificate.*security: \{ caFile, certFile, keyFile \}/s);
});

test("the scheduler itself refuses a TLS connection that shows no client certificate", async () => {
  assert.equal(await connectWithoutCertificate(cluster.address, security.caFile), "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
});

test("a runner whose certificate another CA signed is refused by the scheduler within the connect timeout", async () => {
  const stranger = makeCertificates("stranger");
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address, security: stranger, clientKwargs: { timeout: 5 } }) }, async () =>
    inc.submit(1).result(),
  );
  const started = Date.now();
  const state = await f.returnState();
  assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
  assert.equal(state.type, StateType.CRASHED);
  assert.match(state.message ?? "", /TLS certificate does not match\. Check your security settings/);
});

test("a temporary LocalCluster with `security` listens on TLS only and runs the flow", async () => {
  const runner = new DaskTaskRunner({ clusterKwargs: { n_workers: 1, threads_per_worker: 2 }, security, ...local });
  const f = flow({ taskRunner: runner }, async () => {
    const client = await getDaskClient();
    const address = client.schedulerAddress;
    await client.close();
    // The same scheduler, without certificates: refused.
    const bare = await flow({ taskRunner: new DaskTaskRunner({ address, clientKwargs: { timeout: 5 } }) }, async () => inc.submit(1).result()).returnState();
    const refused = { type: bare.type, message: bare.message, handshake: await connectWithoutCertificate(address, security.caFile) };
    return { address, value: await inc.submit(41).result(), nested: (await fanOut.submit(2).result()).children.length, refused };
  });
  const { address, value, nested, refused } = await f();
  assert.match(address, /^tls:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(value, 42);
  assert.equal(nested, 2);
  assert.equal(refused.type, StateType.CRASHED);
  assert.match(refused.message ?? "", /speaks TLS and this client has no certificate/);
  assert.equal(refused.handshake, "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
});

test("bad `security` options are clear errors when the runner is made", () => {
  assert.throws(() => new DaskTaskRunner({ security: { caFile: "ca.pem" } as DaskSecurity }), /option 'security' must be \{ caFile, certFile, keyFile\?, requireEncryption\? \}.*'certFile' is missing/);
  assert.throws(() => new DaskTaskRunner({ security: { ...security, cafile: "x" } as DaskSecurity }), /unknown field 'cafile'/);
  assert.throws(() => new DaskTaskRunner({ address: "tcp://127.0.0.1:8786", security }), /'address' "tcp:\/\/127\.0\.0\.1:8786" is not a tls:\/\/ address/);
});

test("a missing certificate file is named when the run starts", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address, security: { ...security, certFile: join(dir, "nope.pem") } }) }, async () =>
    inc.submit(1).result(),
  );
  const state = await f.returnState();
  assert.equal(state.type, StateType.CRASHED);
  assert.match(state.message ?? "", /security\.certFile '.*nope\.pem' is not a readable file/);
});

test("nothing is left running", async () => {
  await cluster.stop();
  assert.deepEqual(await waitForNoMarked(mark), []);
});
