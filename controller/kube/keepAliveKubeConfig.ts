import { Agent } from 'node:https';
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

/** Idle pooled connections close after this; a request never waits this long for a reply. */
const IDLE_SOCKET_MS = 90_000;

/**
 * A KubeConfig whose API clients keep their connections to the apiserver.
 * @kubernetes/client-node builds a new https.Agent for every request, so each
 * call paid a full TLS handshake on both ends: at a thousand services that
 * was most of the controller's CPU and much of the apiserver's. The agent is
 * rebuilt only when the TLS material changes (it lives in the agent's options;
 * the bearer token travels in a header and needs no new connection).
 */
export class KeepAliveKubeConfig extends KubeConfig {
  private agent: { key: string; agent: Agent } | undefined;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getAgent();
    if (!(fresh instanceof Agent)) return; // plain http or a proxy: leave it as the library made it
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = fresh.options;
    const identity = JSON.stringify([ca, cert, key, pfx, passphrase, rejectUnauthorized, servername].map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : v)));
    if (this.agent?.key !== identity) {
      const previous = this.agent?.agent;
      // In-flight requests on the old connections finish; idle ones close by their timeout.
      if (previous) setTimeout(() => previous.destroy(), IDLE_SOCKET_MS).unref();
      this.agent = { key: identity, agent: new Agent({ ...fresh.options, keepAlive: true, timeout: IDLE_SOCKET_MS }) };
    }
    context.setAgent(this.agent.agent);
  }
}
