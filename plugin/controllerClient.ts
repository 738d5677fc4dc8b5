import { credentials, makeGenericClientConstructor, type Client, type ServiceError } from '@grpc/grpc-js';
import { podNetworkService, unixTarget, type PodNetworkConfig, type PodRef, type ReleaseResponse } from '../proto/nodeApi.js';

type Unary<Req, Res> = (req: Req, options: { deadline: number }, cb: (err: ServiceError | null, res?: Res) => void) => void;

interface PodNetworkStub extends Client {
  Allocate: Unary<{ pod: PodRef }, PodNetworkConfig>;
  Release: Unary<{ pod: PodRef; reason: string }, ReleaseResponse>;
}

const PodNetworkClient = makeGenericClientConstructor(podNetworkService, 'PodNetwork');

/** The plugin's side of the node API: asks the controller in the same cnf pod for addresses. */
export class ControllerClient {
  private readonly stub: PodNetworkStub;

  constructor(socketPath: string) {
    this.stub = new PodNetworkClient(unixTarget(socketPath), credentials.createInsecure()) as unknown as PodNetworkStub;
  }

  allocate(pod: PodRef, deadline: number): Promise<PodNetworkConfig> {
    return new Promise((resolve, reject) => {
      this.stub.Allocate({ pod }, { deadline }, (err, res) => (err || !res ? reject(err ?? new Error('empty answer from the controller')) : resolve(res)));
    });
  }

  release(pod: PodRef, reason: string, deadline: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.stub.Release({ pod, reason }, { deadline }, (err, res) => (err ? reject(err) : resolve(res?.released ?? false)));
    });
  }

  close(): void {
    this.stub.close();
  }
}
