// A free TCP port on a loopback address, for servers started outside this
// process (nginx, gunicorn) that must be told their port up front.
//
// The port is only free at the moment it is returned: another process may
// take it before the server binds. Callers that spawn servers retry on
// "address in use" (see real-servers.ts) rather than trusting it blindly.
import net from 'node:net';

export function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`could not read the port bound on ${host}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
