// A forward proxy for tests: the `proxy` package (an ES module, hence its own process), on 127.0.0.1. With
// TEST_PROXY_CREDENTIALS=user:password it refuses (407) requests without them. Prints a ready line
// {"ready":true,"port":N}, then one line per request it accepted: {"method":"CONNECT","url":"host:port"}.
import * as http from "node:http";
import { createProxy } from "proxy";

const credentials = process.env.TEST_PROXY_CREDENTIALS;
const expected = credentials ? `Basic ${Buffer.from(credentials).toString("base64")}` : undefined;
const server = createProxy(http.createServer());
server.authenticate = (req) => {
    const ok = !expected || req.headers["proxy-authorization"] === expected;
    if (ok) process.stdout.write(JSON.stringify({ method: req.method, url: req.url }) + "\n");
    return ok;
};
server.listen(0, "127.0.0.1", () => process.stdout.write(JSON.stringify({ ready: true, port: server.address().port }) + "\n"));
const stop = () => {
    server.closeAllConnections?.();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
