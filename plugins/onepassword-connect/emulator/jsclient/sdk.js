// Runs every read call of 1Password's JavaScript Connect SDK (@1password/connect 1.4.2) and its
// error cases against the emulator, asserting the results. Driven by TestJSConnectSDK, which
// passes the emulator's URL, a token and the fixture's expectations in EXPECT (JSON).
"use strict";
const assert = require("node:assert/strict");
const { OnePasswordConnect } = require("@1password/connect");

const x = JSON.parse(process.env.EXPECT);
const op = OnePasswordConnect({ serverURL: x.url, token: x.token, keepAlive: true });
const bad = OnePasswordConnect({ serverURL: x.url, token: "not-a-token" });
let calls = 0;

async function ok(name, fn) {
  try {
    await fn();
    calls++;
  } catch (e) {
    console.error(`${name}: ${e && e.stack ? e.stack : JSON.stringify(e)}`);
    process.exitCode = 1;
  }
}
// rejects expects a Connect error reply {status, message}, as the SDK passes it on.
async function rejects(name, fn, status, msg) {
  await ok(name, async () => {
    let err;
    try { await fn(); } catch (e) { err = e; }
    assert.ok(err, "no error");
    if (status) assert.equal(err.status, status, String(err.message));
    if (msg) assert.match(err.message, msg);
  });
}
const ids = (list) => list.map((v) => v.id).sort();

(async () => {
  await ok("listVaults", async () => assert.deepEqual(ids(await op.listVaults()), [x.vault]));
  await ok("listVaultsByTitle", async () => assert.deepEqual(ids(await op.listVaultsByTitle("Demo")), [x.vault]));
  await ok("listVaultsByTitle none", async () => assert.deepEqual(await op.listVaultsByTitle("nope"), []));
  await ok("getVault by id", async () => assert.equal((await op.getVault(x.vault)).name, "Demo"));
  await ok("getVault by title", async () => assert.equal((await op.getVault("Demo")).id, x.vault));
  await ok("getVaultById", async () => {
    const v = await op.getVaultById(x.vault);
    assert.equal(v.name, "Demo");
    assert.equal(v.items, 3);
  });
  await ok("getVaultByTitle", async () => assert.equal((await op.getVaultByTitle("Demo")).id, x.vault));
  await ok("listItems", async () => assert.deepEqual(ids(await op.listItems(x.vault)), [...x.items].sort()));
  await ok("listItemsByTitle", async () => assert.deepEqual(ids(await op.listItemsByTitle(x.vault, "Postgres")), [x.postgres]));
  await ok("listItemsByTitleContains", async () => assert.deepEqual(ids(await op.listItemsByTitleContains(x.vault, "Git")), [x.github]));
  await ok("getItem by id", async () => assert.equal((await op.getItem(x.vault, x.postgres)).title, "Postgres"));
  await ok("getItem by title", async () => {
    const it = await op.getItem(x.vault, "Postgres");
    assert.equal(it.id, x.postgres);
    const pw = it.fields.filter((f) => f.label === "password").map((f) => f.value).sort();
    assert.deepEqual(pw, ["primary-pw", "replica-pw"]);
    assert.equal(it.files[0].name, "ca.pem");
  });
  await ok("getItemById", async () => assert.equal((await op.getItemById(x.vault, x.github)).title, "GitHub"));
  await ok("getItemByTitle", async () => assert.equal((await op.getItemByTitle(x.vault, "GitHub")).id, x.github));
  await ok("getItemOTP by id", async () => assert.equal(await op.getItemOTP(x.vault, x.github), x.totp));
  await ok("getItemOTP by title", async () => assert.equal(await op.getItemOTP(x.vault, "GitHub"), x.totp));
  await ok("listFiles", async () => {
    const fs = await op.listFiles(x.vault, x.postgres);
    assert.deepEqual(fs.map((f) => [f.id, f.name, f.size]), [[x.file, "ca.pem", x.fileContent.length]]);
  });
  await ok("listFiles by titles", async () => assert.equal((await op.listFiles("Demo", "Postgres"))[0].id, x.file));
  await ok("getFileById", async () => {
    const f = await op.getFileById(x.vault, x.postgres, x.file);
    assert.equal(f.name, "ca.pem");
    assert.equal(f.content_path, `/v1/vaults/${x.vault}/items/${x.postgres}/files/${x.file}/content`);
  });
  await ok("getFileContent", async () => assert.equal(await op.getFileContent("Demo", "Postgres", x.file), x.fileContent));
  await ok("getFileContentStream", async () => {
    const s = await op.getFileContentStream(x.vault, x.postgres, x.file);
    let got = "";
    for await (const chunk of s) got += chunk;
    assert.equal(got, x.fileContent);
  });

  // Error cases.
  await rejects("bad token listVaults", () => bad.listVaults(), 401, /Invalid bearer token/);
  await rejects("bad token getItem", () => bad.getItemById(x.vault, x.postgres), 401);
  await rejects("unknown vault", () => op.getVaultById(x.unknown), 404, /not found/);
  await rejects("ungranted vault", () => op.getVaultById(x.ops), 403, /does not have access/);
  await rejects("ungranted vault items", () => op.listItems(x.ops), 403);
  await rejects("unknown vault title", () => op.getVaultByTitle("nope"));
  await rejects("unknown item", () => op.getItemById(x.vault, x.unknown), 404, /not found/);
  await rejects("unknown item title", () => op.getItemByTitle(x.vault, "nope"));
  await rejects("invalid item id", () => op.listFiles(x.vault, "NOT_AN_ID_but_26_chars_xyz"));
  await rejects("unknown file", () => op.getFileById(x.vault, x.postgres, x.unknown), 404, /not found/);
  await rejects("invalid file id", () => op.getFileById(x.vault, x.postgres, "f1"), 400, /Invalid File UUID/);
  // A content request is made with responseType "stream", so the SDK's error is the response
  // stream rather than the decoded {status, message}.
  await rejects("unknown file content", () => op.getFileContent(x.vault, x.postgres, x.unknown));
  await rejects("no OTP", () => op.getItemOTP(x.vault, x.postgres));

  console.log(`calls ${calls}`);
})();
