// A second, independent check of logged deliveries (consumer.py's log on
// stdin, one JSON line each), in Node.js:
// - v1a with Node's own crypto (createPublicKey from each JWK of the JWKS
//   given as the first argument, exactly as published);
// - v1 with the official npm libraries `standardwebhooks` and `svix`, when a
//   whsec_ secret is the second argument.
// Prints one JSON line per delivery: {id, v1a_kids, standardwebhooks?, svix?}.
const crypto = require("node:crypto");
const fs = require("node:fs");
const { Webhook: StandardWebhook } = require("standardwebhooks");
const { Webhook: SvixWebhook } = require("svix");

const jwks = JSON.parse(process.argv[2]);
const whsec = process.argv[3];
const keys = jwks.keys.map((jwk) => ({
  kid: jwk.kid,
  key: crypto.createPublicKey({ key: jwk, format: "jwk" }),
}));

for (const line of fs.readFileSync(0, "utf8").split("\n").filter(Boolean)) {
  const record = JSON.parse(line);
  const body = Buffer.from(record.body_b64, "base64");
  const h = record.headers;
  const signed = Buffer.concat([Buffer.from(`${h["webhook-id"]}.${h["webhook-timestamp"]}.`), body]);
  const entries = h["webhook-signature"].split(" ").filter((e) => e.startsWith("v1a,"));
  const out = {
    id: record.id,
    v1a_kids: keys
      .filter(({ key }) => entries.some((e) => crypto.verify(null, signed, key, Buffer.from(e.slice(4), "base64"))))
      .map(({ kid }) => kid),
  };
  if (whsec) {
    for (const [name, Lib] of [["standardwebhooks", StandardWebhook], ["svix", SvixWebhook]]) {
      try {
        new Lib(whsec).verify(body, h);
        out[name] = true;
      } catch (e) {
        out[name] = false;
      }
    }
  }
  console.log(JSON.stringify(out));
}
