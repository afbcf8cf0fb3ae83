/**
 * Preloaded (`node --import`) into the Portkey gateway's process by portkey-gateway.ts.
 *
 * The gateway's start script has a `--port` flag but no host flag: it listens on every interface, and by
 * default it trusts loopback custom hosts, so on a shared machine it would be an open door from the network
 * to whatever listens on 127.0.0.1. This module makes its one HTTP server listen on 127.0.0.1 only, on a port
 * the OS picks (no race between choosing a free port and binding it), and tells the parent that port over
 * the IPC channel. When the channel closes (the test process ended, even by a crash or SIGKILL), the gateway
 * exits too, so no gateway outlives its tests.
 */
import net from "node:net";

const listen = net.Server.prototype.listen;
let bound = false;

net.Server.prototype.listen = function listenOnLoopback(...args) {
  // Only the first listen with a bare port (the gateway's `serve({ port })`) is redirected.
  if (bound || typeof args[0] !== "number") return listen.apply(this, args);
  bound = true;
  const callback = args.find((arg) => typeof arg === "function");
  this.once("listening", () => process.send?.({ gatewayPort: this.address().port }));
  return callback === undefined
    ? listen.call(this, { host: "127.0.0.1", port: 0 })
    : listen.call(this, { host: "127.0.0.1", port: 0 }, callback);
};

process.on("disconnect", () => process.exit(0));
